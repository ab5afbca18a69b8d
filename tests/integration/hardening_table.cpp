// SPDX-License-Identifier: MIT
#include "hardening_table.hpp"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace mq::test::hardening {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const auto pos = s.find(sep);
        out.push_back(trim(s.substr(0, pos)));
        if (pos == std::string_view::npos) return out;
        s.remove_prefix(pos + 1);
    }
}

std::uint64_t parse_number(std::string_view text) {
    if (text.empty() || text.size() > 10) throw std::runtime_error("bad number '" + std::string(text) + "'");
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') throw std::runtime_error("bad number '" + std::string(text) + "'");
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// One token "6f" or "6f*100": appends to out.
void append_byte_token(std::string_view tok, std::vector<std::uint8_t>& out) {
    const auto star = tok.find('*');
    const auto byte = tok.substr(0, star);
    if (byte.size() != 2 || hex_digit(byte[0]) < 0 || hex_digit(byte[1]) < 0)
        throw std::runtime_error("bad hex byte '" + std::string(tok) + "'");
    const auto b = static_cast<std::uint8_t>(hex_digit(byte[0]) * 16 + hex_digit(byte[1]));
    const std::uint64_t n = star == std::string_view::npos ? 1 : parse_number(tok.substr(star + 1));
    out.insert(out.end(), n, b);
}

}  // namespace

std::vector<std::uint8_t> parse_hex(std::string_view text) {
    std::vector<std::uint8_t> out;
    while (!(text = trim(text)).empty()) {
        if (text.front() == '[') {
            const auto close = text.find(']');
            if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != '*')
                throw std::runtime_error("group needs '[..]*N'");
            const auto group = parse_hex(text.substr(1, close - 1));
            text.remove_prefix(close + 2);
            auto end = text.find_first_of(" \t");
            const auto n = parse_number(text.substr(0, end));
            for (std::uint64_t i = 0; i < n; ++i) out.insert(out.end(), group.begin(), group.end());
            text.remove_prefix(end == std::string_view::npos ? text.size() : end);
            continue;
        }
        auto end = text.find_first_of(" \t");
        append_byte_token(text.substr(0, end), out);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    }
    return out;
}

void apply_limits(std::string_view text, mqtt::net::broker_limits& lim) {
    for (auto item : split(text, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) throw std::runtime_error("limit without '=': " + std::string(item));
        const auto key = trim(item.substr(0, eq));
        const auto v = parse_number(trim(item.substr(eq + 1)));
        if (key == "max_connections")
            lim.max_connections = static_cast<std::uint32_t>(v);
        else if (key == "max_connect_packet")
            lim.max_connect_packet = static_cast<std::uint32_t>(v);
        else if (key == "max_packet_size")
            lim.max_packet_size = static_cast<std::uint32_t>(v);
        else if (key == "max_string_length")
            lim.max_string_length = static_cast<std::uint32_t>(v);
        else if (key == "max_user_properties")
            lim.max_user_properties = static_cast<std::uint32_t>(v);
        else if (key == "max_topic_length")
            lim.max_topic_length = static_cast<std::uint32_t>(v);
        else if (key == "max_topic_levels")
            lim.max_topic_levels = static_cast<std::uint32_t>(v);
        else if (key == "receive_maximum")
            lim.receive_maximum = static_cast<std::uint16_t>(v);
        else if (key == "max_subscriptions")
            lim.max_subscriptions = static_cast<std::uint32_t>(v);
        else if (key == "topic_alias_maximum")
            lim.topic_alias_maximum = static_cast<std::uint16_t>(v);
        else if (key == "max_keepalive")
            lim.max_keepalive = static_cast<std::uint16_t>(v);
        else if (key == "max_session_expiry")
            lim.max_session_expiry = static_cast<std::uint32_t>(v);
        else if (key == "max_sessions")
            lim.max_sessions = static_cast<std::uint32_t>(v);
        else if (key == "connect_timeout_ms")
            lim.connect_timeout = std::chrono::milliseconds(v);
        else
            throw std::runtime_error("unknown limit '" + std::string(key) + "'");
    }
}

std::vector<row> parse_table(std::string_view text) {
    std::vector<row> rows;
    std::set<std::string, std::less<>> ids;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++line_no;
        if (line.empty() || line.front() == '#') continue;
        try {
            const auto cols = split(line, '|');
            if (cols.size() != 7 && cols.size() != 8)
                throw std::runtime_error("expected 7 or 8 '|'-separated columns");
            row r;
            r.line = line_no;
            r.id = std::string(cols[0]);
            if (r.id.empty() || r.id.find(' ') != std::string::npos) throw std::runtime_error("bad ID");
            if (!ids.insert(r.id).second) throw std::runtime_error("duplicate ID " + r.id);
            if (cols[1] == "311")
                r.version = mqtt::protocol_version::v311;
            else if (cols[1] == "5")
                r.version = mqtt::protocol_version::v5;
            else
                throw std::runtime_error("version must be 311 or 5");
            if (cols[2] == "connect")
                r.connect_first = true;
            else if (cols[2] != "none")
                throw std::runtime_error("before must be connect or none");
            r.send = parse_hex(cols[3]);
            const auto parts = split(cols[4], ';');
            for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
                r.expect.push_back(parse_hex(parts[i]));
                if (r.expect.back().empty()) throw std::runtime_error("empty expected frame");
            }
            if (parts.back() == "open")
                r.then_open = true;
            else if (parts.back() != "close")
                throw std::runtime_error("expect must end with close or open");
            r.spec = std::string(cols[5]);
            r.description = std::string(cols[6]);
            if (r.spec.empty() || r.description.empty())
                throw std::runtime_error("empty spec or description");
            if (cols.size() == 8) {
                r.limits_text = std::string(cols[7]);
                mqtt::net::broker_limits check;
                apply_limits(r.limits_text, check);
            }
            rows.push_back(std::move(r));
        } catch (const std::exception& e) {
            throw std::runtime_error("broker.txt line " + std::to_string(line_no) + ": " + e.what());
        }
    }
    return rows;
}

std::vector<row> load_broker_table() {
    const std::string path = std::string(MQ_TEST_DATA_DIR) + "/bad_input/broker.txt";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_table(text.str());
}

}  // namespace mq::test::hardening
