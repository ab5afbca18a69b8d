// SPDX-License-Identifier: MIT
#include "bench/merge.hpp"

#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "bench/report.hpp"
#include "common/exit_codes.hpp"

namespace mq::tools::bench {

namespace {

[[noreturn]] void bad_data(const std::string& msg) {
    throw std::system_error(make_error_code(tool_error::data), msg);
}

histogram hist_of(const nlohmann::json& dump, const char* name, std::size_t index) {
    std::string err;
    const auto it = dump.find("histograms");
    if (it == dump.end() || !it->contains(name))
        bad_data(fmt::format("dump {}: no histogram '{}'", index + 1, name));
    auto h = histogram::from_json((*it)[name], err);
    if (!h) bad_data(fmt::format("dump {}: histogram '{}': {}", index + 1, name, err));
    return *h;
}

// Member `key` of an object, or null: operator[] on a const json must not see a missing key.
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
    static const nlohmann::json null_value;
    if (!j.is_object()) return null_value;
    const auto it = j.find(key);
    return it == j.end() ? null_value : *it;
}

std::uint64_t counter(const nlohmann::json& dump, const char* name) {
    const auto& v = member(member(dump, "counts"), name);
    return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
}

}  // namespace

merge_result merge_dumps(const std::vector<nlohmann::json>& dumps) {
    merge_result out;
    if (dumps.empty()) bad_data("nothing to merge");
    run_result r;
    const auto& first = dumps.front();
    for (std::size_t i = 0; i < dumps.size(); ++i) {
        const auto& d = dumps[i];
        if (!d.is_object() || d.value("type", "") != "mq-bench-histograms") {
            bad_data(fmt::format("file {} is not an mq bench --hist-out dump", i + 1));
        }
        for (const char* key : {"qos", "payload", "rate", "protocol", "clock"}) {
            const auto& mine = member(member(d, "settings"), key);
            const auto& theirs = member(member(first, "settings"), key);
            if (mine != theirs) {
                out.warnings.push_back(fmt::format("file {}: setting '{}' differs ({} vs {})", i + 1, key,
                                                   mine.dump(), theirs.dump()));
            }
        }
        r.intended.merge(hist_of(d, "intended", i));
        r.service.merge(hist_of(d, "service", i));
        r.ack.merge(hist_of(d, "ack", i));
        r.send_lag.merge(hist_of(d, "send_lag", i));
        r.handshake.merge(hist_of(d, "handshake", i));
        r.sent += counter(d, "sent");
        r.acked += counter(d, "acked");
        r.expected += counter(d, "expected");
        r.received += counter(d, "received");
        r.lost += counter(d, "lost");
        r.duplicates += counter(d, "duplicates");
        r.reordered += counter(d, "reordered");
        r.late += counter(d, "late");
        r.foreign += counter(d, "foreign");
        r.overruns += counter(d, "overruns");
        r.dup_flags += counter(d, "dup_flags");
        r.bytes_sent += counter(d, "bytes_sent");
        r.bytes_received += counter(d, "bytes_received");
        const auto& failures = member(member(d, "counts"), "ack_failures");
        if (failures.is_object()) {
            for (auto it = failures.begin(); it != failures.end(); ++it) {
                if (it->is_number_unsigned()) r.ack_failures[it.key()] += it->get<std::uint64_t>();
            }
        }
        if (std::abs(d.value("window_s", 0.0) - first.value("window_s", 0.0)) >
            0.1 * first.value("window_s", 1.0)) {
            out.warnings.push_back(fmt::format("file {}: window length differs by more than 10%", i + 1));
        }
    }
    r.limits = limits_from_json(member(first, "broker_limits"));
    r.run_id = first.value("run_id", "");
    r.scenario = first.value("scenario", "e2e");
    r.window_s = first.value("window_s", 0.0);
    const auto& s = member(first, "settings");
    r.settings.url = s.value("url", "");
    r.settings.protocol = s.value("protocol", 5);
    r.settings.qos = s.value("qos", 0);
    r.settings.payload = s.value("payload", std::uint64_t{64});
    if (member(s, "rate").is_number()) {
        r.settings.rate = member(s, "rate").get<double>() * static_cast<double>(dumps.size());
    }
    r.settings.publishers = 0;
    r.settings.subscribers = 0;
    for (const auto& d : dumps) {
        const auto& ds = member(d, "settings");
        if (ds.is_object()) {
            r.settings.publishers += ds.value("publishers", 0u);
            r.settings.subscribers += ds.value("subscribers", 0u);
            r.settings.clients += ds.value("clients", 0u);
        }
    }
    // Settings that are the same for every generator of one merged run: from the first file.
    r.settings.window = s.value("window", r.settings.window);
    r.settings.effective_window = s.value("effective_window", r.settings.effective_window);
    r.settings.receive_maximum_known = !s.contains("effective_window_note");
    r.settings.nodelay = s.value("nodelay", r.settings.nodelay);
    r.settings.tls = s.value("tls", r.settings.tls);
    r.settings.threads = s.value("threads", r.settings.threads);
    r.settings.embedded_broker = s.value("embedded_broker", false);
    r.settings.duration_s = s.value("duration_s", r.window_s);
    r.settings.warmup_s = s.value("warmup_s", 0.0);
    r.settings.clock = s.value("clock", "monotonic");
    check_validity(r);
    out.summary = make_summary(r);
    out.summary["merged_files"] = dumps.size();
    return out;
}

bool is_hist_dump(const nlohmann::json& j) {
    return j.is_object() && j.value("type", "") == "mq-bench-histograms";
}

nlohmann::json summary_of_dump(const nlohmann::json& dump) {
    auto m = merge_dumps({dump});
    m.summary.erase("merged_files");
    m.summary["source"] = "hist-out";
    return std::move(m.summary);
}

merge_result merge_files(const std::vector<std::string>& paths) {
    std::vector<nlohmann::json> dumps;
    for (const auto& p : paths) {
        std::ifstream f(p);
        if (!f) throw std::system_error(make_error_code(tool_error::no_input), "cannot open " + p);
        auto j = nlohmann::json::parse(f, nullptr, false);
        if (j.is_discarded()) bad_data(p + ": not JSON");
        dumps.push_back(std::move(j));
    }
    return merge_dumps(dumps);
}

}  // namespace mq::tools::bench
