// SPDX-License-Identifier: MIT
// libFuzzer target for broker URLs (cli-contract.md §2.3, hardening H01-H04).
// parse_url either fails with a one-line reason (it may quote the input) or returns a URL a client can
// use: a host, a port in 1..65535, a known version. percent_decode never
// lengthens its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/url.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto url = mq::tools::parse_url(text, error);
    if (!url) {
        if (error.empty()) mq_fuzz::fail("URL refused without a reason");
        // One line, unless it quotes a newline the user typed.
        if (error.find('\n') != std::string::npos && text.find('\n') == std::string_view::npos) {
            mq_fuzz::fail("URL error spans lines");
        }
    } else {
        if (url->host.empty()) mq_fuzz::fail("URL accepted without a host");
        if (url->host.find('[') != std::string::npos) mq_fuzz::fail("IPv6 host kept its brackets");
        if (url->effective_port() == 0) mq_fuzz::fail("URL accepted with port 0");
        if (url->version && *url->version != "5" && *url->version != "311") mq_fuzz::fail("unknown version accepted");
        const bool ws = url->scheme == mq::tools::url_scheme::ws || url->scheme == mq::tools::url_scheme::wss;
        if (ws && url->path.empty()) mq_fuzz::fail("WebSocket URL without a path");
    }
    if (const auto decoded = mq::tools::percent_decode(text)) {
        if (decoded->size() > text.size()) mq_fuzz::fail("percent_decode grew its input");
    }
    return 0;
}
