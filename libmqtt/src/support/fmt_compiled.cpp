// SPDX-License-Identifier: MIT
// {fmt}'s non-template code compiled into mq instead of linking libfmt.so.
//
// Why: Debian ships libfmt only as a shared library, and loading any C++ .so
// pulls in libstdc++.so with thousands of symbol relocations. Without it mq
// links libstdc++ statically and `mq pub -m x` starts as fast as the C
// mosquitto_pub (issue 3, cold start). Every other file includes the ordinary
// <fmt/format.h> (declarations only, cheap to compile); format-inl.h holds the
// definitions and is compiled here once.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
// The templates <fmt/format.h> declares `extern`: instantiated once, here.
template auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template void buffer<char>::append(const char*, const char*);
template void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
template auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
