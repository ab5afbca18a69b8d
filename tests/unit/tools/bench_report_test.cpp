// SPDX-License-Identifier: MIT
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bench/report.hpp"

using namespace mq::tools::bench;

namespace {
run_result open_run() {
    run_result r;
    r.run_id = "5f3a9c01";
    r.settings.url = "mqtt://127.0.0.1:1883";
    r.settings.qos = 1;
    r.settings.rate = 20000;
    r.settings.duration_s = 20;
    r.window_s = 20;
    r.sent = 400000;
    r.acked = 400000;
    r.expected = 400000;
    r.received = 399990;
    r.lost = 10;
    r.delivered_per_second = {19000, 20001, 20000, 19999, 21000};
    for (int i = 0; i < 1000; ++i) r.intended.record(50'000 + static_cast<std::uint64_t>(i));
    r.connect_ok = 2;
    return r;
}
}  // namespace

TEST_CASE("report summary has the bench-method 8 schema") {
    auto r = open_run();
    check_validity(r);
    const auto s = make_summary(r);
    CHECK(s["type"] == "summary");
    CHECK(s["format"] == 1);
    CHECK(s["run_id"] == "5f3a9c01");
    CHECK(s["scenario"] == "e2e");
    CHECK(s["mode"] == "open");
    CHECK(s["valid"] == true);
    CHECK(s["interrupted"] == false);
    for (const char* k :
         {"url", "protocol", "qos", "payload", "publishers", "subscribers", "rate", "window",
          "effective_window", "nodelay", "tls", "threads", "warmup_s", "duration_s", "clock", "topic",
          "connect_rate"}) {
        CAPTURE(k);
        CHECK(s["settings"].contains(k));
    }
    CHECK(s["rates"]["offered"] == 20000.0);
    CHECK(s["rates"]["sent"] == 20000.0);
    CHECK(s["rates"]["delivered"] == doctest::Approx(19999.5));
    CHECK(s["rates"]["steady_delivered"] == 20000.0);  // median of the inner seconds
    CHECK(s["rates"]["delivered_ratio"] == doctest::Approx(399990.0 / 400000.0));
    CHECK(s["counts"]["lost"] == 10);
    const auto& lat = s["latency_us"]["intended"];
    CHECK(lat["count"] == 1000);
    CHECK(lat["min"] == doctest::Approx(50.0));
    CHECK(lat["p50"].get<double>() == doctest::Approx(50.5).epsilon(0.01));
    CHECK(lat.contains("p99.9"));
    CHECK(s["latency_us"]["service"].empty());
    CHECK(s["connect"]["ok"] == 2);
    CHECK(s["cpu"].contains("generator_us_per_msg"));
    CHECK(s["shared"].is_null());
    CHECK(s["broker_limits"].is_null());
    CHECK_FALSE(s["settings"].contains("count"));  // only with --count
    CHECK_FALSE(s["settings"].contains("source_ips"));
    // One line when dumped.
    CHECK(s.dump().find('\n') == std::string::npos);
}

TEST_CASE("report closed-loop run never reports latency") {
    auto r = open_run();
    r.settings.rate.reset();
    const auto s = make_summary(r);
    CHECK(s["mode"] == "closed");
    CHECK(s["latency_us"].is_null());
    CHECK(s["settings"]["rate"] == "max");
    CHECK(s["notes"][0] == "closed-loop run");
    CHECK(summary_text(s).find("closed-loop") != std::string::npos);
}

TEST_CASE("report open loop below 99 percent of the rate or with overruns is invalid") {
    auto r = open_run();
    r.sent = 390000;  // 19,500/s < 19,800/s
    r.overruns = 5000;
    check_validity(r);
    REQUIRE(r.invalid_reasons.size() == 2);
    const auto s = make_summary(r);
    CHECK(s["valid"] == false);
    CHECK(summary_text(s).find("INVALID") != std::string::npos);
}

TEST_CASE("report gates are attached and a failed gate is reported") {
    auto s = make_summary(open_run());
    std::vector<gate_result> g{{"p99<5ms", true, 51.0}, {"lost>0", false, 10.0}};
    CHECK(attach_gates(s, g));
    CHECK(s["gates"].size() == 2);
    CHECK(s["gates"][1]["passed"] == false);
    CHECK(summary_text(s).find("gate lost>0: FAILED") != std::string::npos);
    std::vector<gate_result> ok{{"p99<5ms", true, 51.0}};
    CHECK_FALSE(attach_gates(s, ok));
}

TEST_CASE("report text shows rates next to the delivered ratio") {
    const auto text = summary_text(make_summary(open_run()));
    CHECK(text.find("delivered 19999.5/s") == std::string::npos);  // rates over 1000 print whole
    CHECK(text.find("delivered 20000/s (ratio 0.999975)") != std::string::npos);
    CHECK(text.find("p50 50.7") != std::string::npos);
}

TEST_CASE("report steady rate needs three seconds") {
    CHECK_FALSE(steady_rate({1, 2}).has_value());
    CHECK(*steady_rate({1, 5, 3, 100}) == doctest::Approx(4.0));
}

TEST_CASE("report histogram dump round-trips through the histogram parser") {
    const auto r = open_run();
    const auto d = make_hist_dump(r);
    std::string err;
    const auto h = histogram::from_json(d["histograms"]["intended"], err);
    REQUIRE(h.has_value());
    CHECK(*h == r.intended);
}

TEST_CASE("report QoS 1 loss is an error, QoS 0 loss is only reported") {
    auto r = open_run();  // QoS 1, 10 lost
    auto s = make_summary(r);
    REQUIRE(s["errors"].size() == 1);
    CHECK(summary_text(s).find("ERROR: 10 QoS 1 messages lost") != std::string::npos);
    r.settings.qos = 0;
    s = make_summary(r);
    CHECK(s["errors"].empty());
    CHECK(summary_text(s).find("ERROR") == std::string::npos);
}

TEST_CASE("report summary has bytes per second and the broker's advertised limits") {
    auto r = open_run();
    r.bytes_sent = 20 * 1'048'576;  // 1 MiB/s over the 20 s window
    r.bytes_received = 20 * 2048;
    broker_limits l;
    l.receive_maximum = 20;
    l.maximum_packet_size = 268435455;
    l.topic_alias_maximum = 10;
    l.maximum_qos = 1;
    l.retain_available = false;
    l.advertised = {"receive_maximum", "maximum_packet_size", "topic_alias_maximum", "maximum_qos",
                    "retain_available"};
    r.limits = l;
    const auto s = make_summary(r);
    CHECK(s["rates"]["bytes_sent"] == doctest::Approx(1'048'576.0));
    CHECK(s["rates"]["bytes_received"] == doctest::Approx(2048.0));
    CHECK(s["counts"]["bytes_sent"] == 20 * 1'048'576);
    CHECK(s["counts"]["bytes_received"] == 20 * 2048);
    const auto& b = s["broker_limits"];
    REQUIRE(b.is_object());
    for (const char* k : {"receive_maximum", "maximum_packet_size", "topic_alias_maximum", "maximum_qos",
                          "retain_available", "wildcard_subscription_available",
                          "subscription_identifier_available", "shared_subscription_available",
                          "server_keep_alive", "advertised"}) {
        CAPTURE(k);
        CHECK(b.contains(k));
    }
    CHECK(b["receive_maximum"] == 20);
    CHECK(b["maximum_packet_size"] == 268435455);
    CHECK(b["topic_alias_maximum"] == 10);
    CHECK(b["maximum_qos"] == 1);
    CHECK(b["retain_available"] == false);
    CHECK(b["shared_subscription_available"] == true);  // not sent: the spec default
    CHECK(b["server_keep_alive"].is_null());
    CHECK(b["advertised"].size() == 5);
    // Round trip (merge and report read it back).
    const auto back = limits_from_json(b);
    REQUIRE(back.has_value());
    CHECK(limits_json(back) == b);

    const auto text = summary_text(s);
    CHECK(text.find("bytes     sent 1.0 MiB/s  received 2.0 KiB/s") != std::string::npos);
    CHECK(text.find("Receive Maximum 20, Maximum Packet Size 268435455, Topic Alias Maximum 10, Maximum QoS 1, "
                    "Retain no") != std::string::npos);
    CHECK(text.find("(advertised: receive_maximum maximum_packet_size") != std::string::npos);

    // MQTT 3.1.1: nothing advertised, said so.
    r.limits.reset();
    r.settings.protocol = 311;
    const auto s311 = make_summary(r);
    CHECK(s311["broker_limits"].is_null());
    CHECK(summary_text(s311).find("none advertised (MQTT 3.1.1)") != std::string::npos);
    // The --hist-out dump carries both, so merge and report keep them.
    r.limits = l;
    const auto d = make_hist_dump(r);
    CHECK(d["counts"]["bytes_sent"] == 20 * 1'048'576);
    CHECK(d["broker_limits"] == b);
}

TEST_CASE("report summary of a shared subscription run, --count and --source-ip") {
    auto r = open_run();
    r.settings.count = 400000;
    r.settings.source_ips = {"127.0.0.2", "127.0.0.3"};
    r.shared = shared_result{"g", 2, 0.4, 0.6};
    r.notes.push_back("--count 500000: 400000 sent before --duration ended the window");
    const auto s = make_summary(r);
    CHECK(s["settings"]["count"] == 400000);
    CHECK(s["settings"]["source_ips"] == nlohmann::json::array({"127.0.0.2", "127.0.0.3"}));
    CHECK(s["shared"]["group"] == "g");
    CHECK(s["shared"]["members"] == 2);
    CHECK(s["shared"]["min_share"] == 0.4);
    CHECK(s["shared"]["max_share"] == 0.6);
    CHECK(s["notes"].back().get<std::string>().starts_with("--count 500000"));
    const auto text = summary_text(s);
    CHECK(text.find("shared    group g of 2 members") != std::string::npos);
    CHECK(text.find("note: --count 500000") != std::string::npos);
}
