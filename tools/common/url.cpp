// SPDX-License-Identifier: MIT
#include "common/url.hpp"

#include <algorithm>
#include <cctype>

namespace mq::tools {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::optional<std::uint32_t> parse_uint(std::string_view s, std::uint32_t max) noexcept {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

bool valid_host_name(std::string_view h) noexcept {
    return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
    });
}

bool valid_ipv6(std::string_view h) noexcept {
    // Hex digits, ':' and '.' (IPv4 tail); a zone "%eth0" (or RFC 6874's
    // "%25eth0") is allowed after '%': unreserved characters only.
    const auto zone_at = h.find('%');
    const std::string_view addr = h.substr(0, zone_at);
    if (addr.find(':') == std::string_view::npos) return false;
    if (zone_at != std::string_view::npos) {
        std::string_view zone = h.substr(zone_at + 1);
        if (zone.starts_with("25")) zone.remove_prefix(2);
        const bool zone_ok = !zone.empty() && std::all_of(zone.begin(), zone.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
        });
        if (!zone_ok) return false;
    }
    return std::all_of(addr.begin(), addr.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
}

// Messages quote what the user wrote, percent-decoded: control characters are
// shown as \xNN so an error stays one line on the terminal.
bool fail(std::string& error, std::string_view msg) {
    error.clear();
    for (const char c : msg) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            constexpr char hex[] = "0123456789abcdef";
            error += "\\x";
            error += hex[u >> 4];
            error += hex[u & 0xf];
        } else {
            error += c;
        }
    }
    return false;
}

bool parse_host_port(std::string_view hp, broker_url& out, std::string& error) {
    std::string_view port_text;
    bool has_port = false;
    if (!hp.empty() && hp.front() == '[') {
        const auto close = hp.find(']');
        if (close == std::string_view::npos) return fail(error, "unterminated '[' in IPv6 host");
        out.host = std::string(hp.substr(1, close - 1));
        if (!valid_ipv6(out.host)) return fail(error, "invalid IPv6 address '" + out.host + "'");
        // RFC 6874 writes the zone as "%25eth0"; the resolver wants "%eth0".
        if (const auto z = out.host.find("%25"); z != std::string::npos) out.host.erase(z + 1, 2);
        const auto rest = hp.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return fail(error, "unexpected text after ']'");
            port_text = rest.substr(1);
            has_port = true;
        }
    } else {
        const auto colons = std::count(hp.begin(), hp.end(), ':');
        if (colons > 1) {
            return fail(error, "IPv6 addresses must be written in brackets, e.g. mqtt://[::1]:1883");
        }
        const auto colon = hp.find(':');
        out.host = std::string(hp.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = hp.substr(colon + 1);
            has_port = true;
        }
        if (out.host.empty()) return fail(error, "missing host");
        if (!valid_host_name(out.host)) return fail(error, "invalid host name '" + out.host + "'");
    }
    if (has_port) {
        auto p = parse_uint(port_text, 65535);
        if (!p || *p == 0) {
            return fail(error, "invalid port '" + std::string(port_text) + "' (expected 1-65535)");
        }
        out.port = static_cast<std::uint16_t>(*p);
    }
    return true;
}

bool parse_userinfo(std::string_view ui, broker_url& out, std::string& error) {
    const auto colon = ui.find(':');
    const std::string_view user = ui.substr(0, colon);
    auto u = percent_decode(user);
    if (!u) return fail(error, "bad percent escape in user name");
    out.username = std::move(*u);
    if (colon != std::string_view::npos) {
        const std::string_view pass = ui.substr(colon + 1);
        if (pass.find(':') != std::string_view::npos) {
            return fail(error, "a literal ':' in the password must be written %3A");
        }
        auto p = percent_decode(pass);
        if (!p) return fail(error, "bad percent escape in password");
        out.password = std::move(*p);
    }
    return true;
}

bool parse_query(std::string_view q, broker_url& out, std::string& error) {
    while (!q.empty()) {
        const auto amp = q.find('&');
        const std::string_view item = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        const std::string_view key = item.substr(0, eq);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
        if (!value) return fail(error, "bad percent escape in query value of '" + std::string(key) + "'");
        if (key == "client_id") {
            out.client_id = std::move(*value);
        } else if (key == "version") {
            if (*value != "5" && *value != "311") {
                return fail(error, "query version must be 5 or 311, not '" + *value + "'");
            }
            out.version = std::move(*value);
        } else if (key == "keepalive") {
            auto k = parse_uint(*value, 65535);
            if (!k) return fail(error, "query keepalive must be 0-65535, not '" + *value + "'");
            out.keepalive = static_cast<std::uint16_t>(*k);
        } else {
            return fail(error, "unknown query key '" + std::string(key) +
                                   "' (known: client_id, version, keepalive)");
        }
    }
    return true;
}

}  // namespace

std::uint16_t broker_url::default_port() const noexcept {
    switch (scheme) {
    case url_scheme::mqtt: return 1883;
    case url_scheme::mqtts: return 8883;
    case url_scheme::ws: return 80;
    case url_scheme::wss: return 443;
    }
    return 1883;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::optional<broker_url> parse_url(std::string_view text, std::string& error) {
    broker_url out;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        error = "missing 'scheme://' (expected e.g. mqtt://host:1883)";
        return std::nullopt;
    }
    const std::string scheme = lower(text.substr(0, sep));
    if (scheme == "mqtt" || scheme == "tcp") out.scheme = url_scheme::mqtt;
    else if (scheme == "mqtts" || scheme == "ssl" || scheme == "tls") out.scheme = url_scheme::mqtts;
    else if (scheme == "ws") out.scheme = url_scheme::ws;
    else if (scheme == "wss") out.scheme = url_scheme::wss;
    else {
        fail(error, "unsupported scheme '" + scheme + "' (use mqtt, mqtts, ws or wss)");
        return std::nullopt;
    }
    std::string_view rest = text.substr(sep + 3);
    const auto auth_end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, auth_end);
    rest = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
    if (authority.empty()) {
        error = "missing host";
        return std::nullopt;
    }
    std::string_view host_port = authority;
    if (const auto at = authority.find('@'); at != std::string_view::npos) {
        if (authority.find('@', at + 1) != std::string_view::npos) {
            error = "a literal '@' in the user name or password must be written %40";
            return std::nullopt;
        }
        if (!parse_userinfo(authority.substr(0, at), out, error)) return std::nullopt;
        host_port = authority.substr(at + 1);
    }
    if (!parse_host_port(host_port, out, error)) return std::nullopt;

    const auto q = rest.find('?');
    const std::string_view path = rest.substr(0, q);
    if (q != std::string_view::npos && !parse_query(rest.substr(q + 1), out, error)) return std::nullopt;
    if (out.scheme == url_scheme::ws || out.scheme == url_scheme::wss) {
        out.path = (path.empty() || path == "/") ? std::string("/mqtt") : std::string(path);
    } else if (path.size() > 1) {
        const std::string_view raw = path.substr(1);
        if (raw.find_first_of("#+") != std::string_view::npos) {
            error = "'#' and '+' in a URL topic must be written %23 and %2B";
            return std::nullopt;
        }
        auto topic = percent_decode(raw);
        if (!topic) {
            error = "bad percent escape in URL topic";
            return std::nullopt;
        }
        out.path = std::move(*topic);
    }
    return out;
}

}  // namespace mq::tools
