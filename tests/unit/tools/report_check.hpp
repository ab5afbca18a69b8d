// SPDX-License-Identifier: MIT
// Helpers for the bench report tests (unit and e2e): a scratch directory, the
// Python well-formedness check of check_report_html.py and rsvg-convert, each
// run through std::system under `timeout` so a hung tool cannot hang the test.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace mq::test::report {

/// A directory under /tmp removed with its contents on destruction.
class scratch_dir {
public:
    scratch_dir() {
        char tmpl[] = "/tmp/mq-report-test-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    bool ok() const { return !path_.empty(); }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

/// Exit status of a shell command (127/126 when it could not run, -1 on a signal).
inline int shell(const std::string& command) {
    const int st = std::system(command.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

inline bool have_program(const std::string& name) {
    return shell("command -v " + name + " >/dev/null 2>&1") == 0;
}

/// Runs check_report_html.py on `html` (charts written to `dir`); the parsed
/// result, or an object with "errors" naming why the check itself failed.
inline nlohmann::json check_html(const std::string& html, const scratch_dir& dir) {
    const std::string out = dir.file("check.json"), err = dir.file("check.err");
    const int rc = shell("timeout 60 python3 " MQ_SOURCE_DIR "/tests/unit/tools/check_report_html.py '" + html +
                         "' '" + dir.path() + "' >'" + out + "' 2>'" + err + "'");
    auto j = nlohmann::json::parse(read_text(out), nullptr, false);
    if (rc != 0 || j.is_discarded() || !j.is_object()) {
        return {{"errors", {"check_report_html.py failed (" + std::to_string(rc) + "): " + read_text(err)}},
                {"charts", nlohmann::json::array()}};
    }
    return j;
}

/// Points of the polyline of `series` for `run` in the chart titled `title`; -1 when absent.
inline int points_of(const nlohmann::json& check, const std::string& title, const std::string& series,
                     const std::string& run) {
    for (const auto& c : check["charts"]) {
        if (c.value("title", "") != title) continue;
        for (const auto& l : c["lines"]) {
            if (l.value("series", "") == series && l.value("run", "") == run) return l.value("points", 0);
        }
    }
    return -1;
}

/// rsvg-convert each chart to PNG; the number of failures (error text appended to `why`).
inline int convert_charts(const nlohmann::json& check, const scratch_dir& dir, std::string& why) {
    int failures = 0;
    int i = 0;
    for (const auto& c : check["charts"]) {
        const std::string svg = c.value("file", ""), png = dir.file("chart-" + std::to_string(i++) + ".png");
        const std::string err = dir.file("rsvg.err");
        const int rc = shell("timeout 60 rsvg-convert -o '" + png + "' '" + svg + "' 2>'" + err + "'");
        std::error_code ec;
        if (rc != 0 || std::filesystem::file_size(png, ec) == 0 || ec) {
            ++failures;
            why += svg + ": rsvg-convert exit " + std::to_string(rc) + " " + read_text(err) + "\n";
        }
    }
    return failures;
}

}  // namespace mq::test::report
