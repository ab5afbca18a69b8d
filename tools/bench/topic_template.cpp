// SPDX-License-Identifier: MIT
#include "bench/topic_template.hpp"

#include <fmt/format.h>

namespace mq::tools::bench {

std::optional<topic_template> topic_template::parse(std::string_view text, std::string& err) {
    if (text.find_first_of("+#") != std::string_view::npos) {
        err = "--topic: a template may not contain + or #";
        return std::nullopt;
    }
    topic_template t;
    t.text_ = std::string(text);
    auto literal = [&t](std::string_view s) {
        if (s.empty()) return;
        if (t.pieces_.empty() || t.pieces_.back().k != kind::literal) t.pieces_.push_back({kind::literal, {}});
        t.pieces_.back().text += s;
    };
    for (std::size_t i = 0; i < text.size();) {
        const std::string_view rest = text.substr(i);
        if (rest.starts_with("{run}")) {
            t.pieces_.push_back({kind::run, {}});
            i += 5;
        } else if (rest.starts_with("{pub}")) {
            t.pieces_.push_back({kind::client, {}});
            i += 5;
        } else if (rest.starts_with("{sub}")) {
            literal("0");
            i += 5;
        } else if (rest[0] == '%') {
            const char c = rest.size() > 1 ? rest[1] : '\0';
            if (c == 'i') {
                t.pieces_.push_back({kind::client, {}});
            } else if (c == 'c') {
                t.pieces_.push_back({kind::counter, {}});
            } else if (c == '%') {
                literal("%");
            } else {
                err = fmt::format("--topic: unknown placeholder '%{}' (use %i, %c, %% or {{run}})",
                                  c == '\0' ? std::string() : std::string(1, c));
                return std::nullopt;
            }
            i += 2;
        } else {
            literal(rest.substr(0, 1));
            ++i;
        }
    }
    return t;
}

void topic_template::expand(std::string& out, std::uint32_t run_id, std::uint32_t client,
                            std::uint64_t counter) const {
    out.clear();
    for (const auto& p : pieces_) {
        switch (p.k) {
            case kind::literal:
                out += p.text;
                break;
            case kind::run:
                fmt::format_to(std::back_inserter(out), "{:08x}", run_id);
                break;
            case kind::client:
                fmt::format_to(std::back_inserter(out), "{}", client);
                break;
            case kind::counter:
                fmt::format_to(std::back_inserter(out), "{}", counter);
                break;
        }
    }
}

std::string topic_template::topic(std::uint32_t run_id, std::uint32_t client, std::uint64_t counter) const {
    std::string out;
    expand(out, run_id, client, counter);
    return out;
}

std::string topic_template::filter(std::uint32_t run_id) const {
    std::string out;
    for (const auto& p : pieces_) {
        if (p.k == kind::literal) {
            out += p.text;
        } else if (p.k == kind::run) {
            out += fmt::format("{:08x}", run_id);
        } else {
            out += '+';
        }
    }
    return out;
}

std::optional<std::string> topic_template::filter_problem() const {
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
        if (pieces_[i].k != kind::client && pieces_[i].k != kind::counter) continue;
        const bool level_starts =
            i == 0 || (pieces_[i - 1].k == kind::literal && pieces_[i - 1].text.ends_with('/'));
        const bool level_ends =
            i + 1 == pieces_.size() || (pieces_[i + 1].k == kind::literal && pieces_[i + 1].text.starts_with('/'));
        if (!level_starts || !level_ends) {
            return fmt::format(
                "--topic '{}': %i, %c and {{pub}} must each be a whole topic level (between '/'), "
                "because the subscribers' filter puts + there",
                text_);
        }
    }
    return std::nullopt;
}

bool topic_template::per_message() const noexcept {
    for (const auto& p : pieces_) {
        if (p.k == kind::counter) return true;
    }
    return false;
}

std::size_t topic_template::max_size() const noexcept {
    std::size_t n = 0;
    for (const auto& p : pieces_) {
        n += p.k == kind::literal ? p.text.size() : p.k == kind::run ? 8 : p.k == kind::client ? 10 : 20;
    }
    return n;
}

}  // namespace mq::tools::bench
