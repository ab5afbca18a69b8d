// SPDX-License-Identifier: MIT
#include "golden_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mq_test {
namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::filesystem::path golden_dir() { return std::filesystem::path(MQ_TEST_DATA_DIR) / "golden"; }

}  // namespace

std::vector<std::uint8_t> parse_hex(std::string_view text, std::string& error) {
    std::vector<std::uint8_t> out;
    error.clear();
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        std::size_t i = 0;
        while (i < line.size()) {
            if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
            const std::string_view token = line.substr(i, j - i);
            // Exactly two digits per byte so a dropped nibble cannot shift the rest silently.
            if (token.size() != 2 || hex_digit(token[0]) < 0 || hex_digit(token[1]) < 0) {
                error = "line " + std::to_string(line_no) + ": bad token '" + std::string(token) + "'";
                return {};
            }
            out.push_back(static_cast<std::uint8_t>(hex_digit(token[0]) * 16 + hex_digit(token[1])));
            i = j;
        }
    }
    return out;
}

std::vector<std::string> golden_names() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
        if (entry.is_regular_file() && entry.path().extension() == ".hex")
            names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::uint8_t> load_golden(const std::string& name, std::string& error) {
    const auto path = golden_dir() / (name + ".hex");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open " + path.string();
        return {};
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto bytes = parse_hex(text.str(), error);
    if (!error.empty()) error = path.string() + ": " + error;
    return bytes;
}

}  // namespace mq_test
