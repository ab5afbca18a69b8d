// SPDX-License-Identifier: MIT
#include "bench/bench_command.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bench/embedded_broker.hpp"
#include "bench/fail_if.hpp"
#include "bench/html_report.hpp"
#include "bench/merge.hpp"
#include "bench/multi_run.hpp"
#include "bench/resources.hpp"
#include "bench/scenario.hpp"
#include "bench/series.hpp"
#include "bench/source_ips.hpp"
#include "common/connection_options.hpp"
#include "common/duration.hpp"
#include "common/exit_codes.hpp"
#include "common/globals.hpp"
#include "common/stdio.hpp"
#include "common/url.hpp"

namespace mq::tools {

namespace {

using namespace bench;

struct bench_cli {
    std::string scenario = "e2e";
    std::vector<std::string> files;  // merge
    connection_options conn;  // the connection options of mq pub (cli-contract §2)
    std::vector<CLI::Option*> session_only;  // of those, the ones a bench client has no use for
    std::string publishers, subscribers, clients = "100";
    int qos = 0;
    int sub_qos = -1;
    std::string topic = "mq-bench/{run}/{pub}";
    std::string payload = "64", rate = "max", window = "100", max_unsent = "64KiB";
    std::string warmup = "5s", duration, drain = "5s", hold = "10s";  // duration: 20s, 24h with --count
    std::string count, shared_group, source_ip;
    std::string connect_rate = "1000", connect_concurrency = "100", threads = "1";
    std::string clock = "monotonic", run_id;
    bool json = false;
    std::string hist_out;
    std::string series;       // --series FILE (.csv or NDJSON)
    std::string report;       // --report FILE.html
    std::string output = "-";  // bench report: -o FILE
    std::vector<std::string> fail_if;
    int broker_pid = 0;
    std::string compare;      // --compare URL_B
    int compare_pid = 0;      // --compare-pid PID_B
    std::string pairs;        // --pairs N (3)
    std::string require_idle;  // --require-idle PCT
};

std::atomic<bool> g_interrupted{false};
extern "C" void on_bench_signal(int) {
    g_interrupted.store(true);
}

[[noreturn]] void usage(const std::string& msg) {
    throw std::system_error(make_error_code(tool_error::usage), msg);
}

std::uint64_t count_arg(const std::string& name, const std::string& v, std::uint64_t min, std::uint64_t max) {
    const auto n = parse_count(v);
    if (!n || *n < min || *n > max)
        usage(fmt::format("--{}: '{}' is not a count in {}..{}", name, v, min, max));
    return *n;
}

std::chrono::nanoseconds duration_arg(const std::string& name, const std::string& v) {
    const auto d = parse_duration(v);
    if (!d) usage(fmt::format("--{}: '{}' is not a duration (e.g. 250ms, 5s, 1m)", name, v));
    return *d;
}

// The URL of the report: scheme, host, port and the WebSocket path.
std::string url_text(const bench_config& c) {
    using mqtt::net::transport_kind;
    const char* scheme = c.transport == transport_kind::tls   ? "mqtts"
                         : c.transport == transport_kind::ws  ? "ws"
                         : c.transport == transport_kind::wss ? "wss"
                                                              : "mqtt";
    const bool v6 = c.host.find(':') != std::string::npos;
    const bool ws = c.transport == transport_kind::ws || c.transport == transport_kind::wss;
    return fmt::format("{}://{}:{}{}", scheme, v6 ? "[" + c.host + "]" : c.host, c.port, ws ? c.ws_path : "");
}

// The target, transport and credentials from the shared connection options (§2).
void apply_connection(const resolved_connection& rc, bench_config& c) {
    const auto& cl = rc.client;
    if (!cl.unix_path.empty()) usage("mq bench connects over TCP, TLS or WebSocket; --unix is not supported");
    c.host = cl.host;
    c.port = cl.port;
    c.transport = cl.transport;
    c.ws_path = cl.ws_path;
    c.tls = cl.tls;
    c.nodelay = cl.tcp_nodelay;
    c.bind_address = cl.bind_address;
    c.version = cl.connect.version;
    c.username = cl.connect.username;
    c.keep_alive = cl.connect.keep_alive;
    if (cl.connect.password) c.password = std::string(cl.connect.password->begin(), cl.connect.password->end());
    c.url = url_text(c);
}

bench_config make_config(const bench_cli& o, const resolved_connection& rc) {
    bench_config c;
    c.scenario = o.scenario;
    apply_connection(rc, c);
    c.pub_qos = static_cast<mqtt::qos>(o.qos);
    c.sub_qos = static_cast<mqtt::qos>(o.sub_qos < 0 ? o.qos : o.sub_qos);
    // Scenario presets of bench-method §2; explicit counts win.
    std::uint64_t pubs = 1, subs = 1;
    if (c.scenario == "fan-in") pubs = 10;
    if (c.scenario == "fan-out") subs = 10;
    if (c.scenario == "shared") {
        pubs = 10;
        subs = 2;
    }
    if (c.scenario == "pub") subs = 0;
    if (c.scenario == "sub") pubs = 0;
    if (!o.publishers.empty()) pubs = count_arg("publishers", o.publishers, 0, 100000);
    if (!o.subscribers.empty()) subs = count_arg("subscribers", o.subscribers, 0, 100000);
    if (c.scenario == "pub" && subs != 0) usage("bench pub has no subscribers; use e2e");
    if (c.scenario == "sub" && pubs != 0)
        usage("bench sub has no publishers; run bench pub with the same --run-id");
    if ((c.scenario == "e2e" || c.scenario == "fan-in" || c.scenario == "fan-out" || c.scenario == "shared") &&
        (pubs == 0 || subs == 0)) {
        usage("e2e needs at least one publisher and one subscriber");
    }
    c.publishers = static_cast<std::uint32_t>(pubs);
    c.subscribers = static_cast<std::uint32_t>(subs);
    c.clients = static_cast<std::uint32_t>(count_arg("clients", o.clients, 1, 1000000));
    if (c.scenario == "fan-in" || c.scenario == "fan-out") c.scenario = c.scenario;  // kept for the report
    const auto payload = parse_size(o.payload);
    if (!payload || *payload < 40 || *payload > 256 * 1024 * 1024) {
        usage("--payload-size: at least 40 bytes (the bench header), at most 256MiB");
    }
    c.payload = *payload;
    if (o.rate.find(',') != std::string::npos) {
        std::string err;
        const auto rates = parse_rate_list(o.rate, err);  // the sweep itself runs in run_bench_command
        if (!rates) usage(err);
        c.rate = rates->front();
    } else if (o.rate != "max") {
        c.rate = static_cast<double>(count_arg("rate", o.rate, 1, 100'000'000));
    }
    c.window = static_cast<std::uint32_t>(count_arg("window", o.window, 1, 65535));
    const auto unsent = parse_size(o.max_unsent);
    if (!unsent || *unsent < 1024) usage("--max-unsent: a size of at least 1KiB");
    c.max_unsent = *unsent;
    c.warmup = duration_arg("warmup", o.warmup);
    if (!o.count.empty()) {
        if (c.scenario == "sub" || c.scenario == "conn")
            usage("--count: counts published messages; not for bench " + c.scenario);
        c.count = count_arg("count", o.count, std::max<std::uint64_t>(c.publishers, 1), UINT64_MAX / 2);
    }
    // With --count the window ends at the count; --duration, if given, caps it.
    c.duration = duration_arg("duration", o.duration.empty() ? (c.count ? "24h" : "20s") : o.duration);
    if (c.duration < std::chrono::milliseconds(100)) usage("--duration: at least 100ms");
    c.drain = duration_arg("drain", o.drain);
    c.hold = duration_arg("hold", o.hold);
    c.connect_rate = static_cast<std::uint32_t>(count_arg("connect-rate", o.connect_rate, 1, 10'000'000));
    c.connect_concurrency =
        static_cast<std::uint32_t>(count_arg("connect-concurrency", o.connect_concurrency, 1, 1'000'000));
    c.threads = static_cast<std::uint32_t>(count_arg("threads", o.threads, 1, 256));
    std::string terr;
    auto tmpl = topic_template::parse(o.topic, terr);
    if (!tmpl) usage(terr);
    if (c.subscribers > 0) {
        if (auto why = tmpl->filter_problem()) usage(*why);
    }
    c.topic = std::move(*tmpl);
    c.shared_group = o.shared_group;
    if (c.scenario == "shared" && c.shared_group.empty()) c.shared_group = "mq-bench";
    if (!c.shared_group.empty()) {
        if (c.shared_group.find_first_of("/+#") != std::string::npos)
            usage("--shared-group: a name without '/', '+' or '#'");
        if (c.subscribers == 0) usage("--shared-group: needs subscribers");
    }
    if (!o.source_ip.empty()) {
        if (!c.bind_address.empty()) usage("-A/--bind-address and --source-ip cannot be combined");
        std::string err;
        auto ips = parse_source_ips(o.source_ip, err);
        if (!ips) usage(err);
        c.source_ips = std::move(*ips);
        const std::string name = c.host;
        if (auto why = match_source_family(c.source_ips, c.host)) usage(*why);
        // A name replaced by its address is still the name TLS verifies.
        if (c.host != name && c.tls.server_name.empty()) c.tls.server_name = name;
    }
    c.wall_clock = o.clock == "wall";
    if (o.broker_pid > 0) c.broker_pid = o.broker_pid;
    if (!o.run_id.empty()) {
        try {
            std::size_t used = 0;
            const unsigned long v = std::stoul(o.run_id, &used, 16);
            if (used != o.run_id.size() || v > 0xFFFFFFFFul) throw std::invalid_argument("range");
            c.run_id = static_cast<std::uint32_t>(v);
        } catch (const std::exception&) {
            usage("--run-id: up to 8 hex digits");
        }
    } else {
        c.run_id = static_cast<std::uint32_t>(std::random_device{}());
    }
    return c;
}

[[noreturn]] void cannot_write(const std::string& path) {
    throw std::system_error(make_error_code(tool_error::io), "cannot write " + path);
}

// Opens an output file before the run, so a bad path fails in a second, not after the run.
std::ofstream open_output(const std::string& path) {
    std::ofstream f(path, std::ios::trunc);
    if (!f) cannot_write(path);
    return f;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f = open_output(path);
    f << text;
    f.close();
    if (!f) cannot_write(path);
}

// `mq bench report A.json B.json -o cmp.html`: one page from saved --json summaries.
int run_report_command(const bench_cli& o) {
    if (o.files.empty()) usage("bench report: name at least one mq bench --json summary or --hist-out file");
    const std::string html = html_report(load_report_runs(o.files));
    if (o.output == "-") return write_all(1, html) == 0 ? exit_status::ok : exit_status::io;
    write_file(o.output, html);
    return exit_status::ok;
}

int finish(nlohmann::json summary, const bench_cli& o, const std::vector<gate>& gates, bool interrupted) {
    const bool failed = attach_gates(summary, evaluate_gates(gates, summary));
    const std::string out = o.json ? summary.dump() + "\n" : summary_text(summary);
    if (write_all(1, out) != 0) return exit_status::io;
    // After the summary, so a page that cannot be written does not cost the figures.
    if (!o.report.empty()) write_file(o.report, html_report({{"run " + summary.value("run_id", ""), summary}}));
    if (interrupted) return exit_status::interrupted;
    return failed ? exit_status::check_failed : exit_status::ok;
}

// SIGINT and SIGTERM end the run early with its partial results (§7).
struct signal_scope {
    using handler = void (*)(int);
    handler old_int, old_term;
    signal_scope() {
        g_interrupted.store(false);
        old_int = std::signal(SIGINT, on_bench_signal);
        old_term = std::signal(SIGTERM, on_bench_signal);
    }
    ~signal_scope() {
        std::signal(SIGINT, old_int);
        std::signal(SIGTERM, old_term);
    }
    signal_scope(const signal_scope&) = delete;
    signal_scope& operator=(const signal_scope&) = delete;
};

// Target B of --compare: A's settings with the URL's scheme, host, port, path,
// credentials, version and keepalive (bench-method §13).
bench_config compare_config(const bench_cli& o, const bench_config& a) {
    std::string err;
    const auto u = parse_url(o.compare, err);
    if (!u) usage(fmt::format("--compare: invalid URL '{}': {}", o.compare, err));
    bench_config b = a;
    using mqtt::net::transport_kind;
    const bool ws = u->scheme == url_scheme::ws || u->scheme == url_scheme::wss;
    b.transport = u->scheme == url_scheme::mqtts ? transport_kind::tls
                  : u->scheme == url_scheme::ws  ? transport_kind::ws
                  : u->scheme == url_scheme::wss ? transport_kind::wss
                                                 : transport_kind::tcp;
    b.host = u->host;
    b.port = u->effective_port();
    if (ws) b.ws_path = u->path;
    if (u->username) b.username = u->username;
    if (u->password) b.password = u->password;
    if (u->version) b.version = *u->version == "311" ? mqtt::protocol_version::v311 : mqtt::protocol_version::v5;
    if (u->keepalive) b.keep_alive = *u->keepalive;
    if (!b.source_ips.empty()) {
        if (auto why = match_source_family(b.source_ips, b.host)) usage("--compare: " + *why);
    }
    b.url = url_text(b);
    b.broker_pid.reset();
    if (o.compare_pid > 0) b.broker_pid = o.compare_pid;
    return b;
}

// A sweep (--rate R1,R2,...) or a comparison (--compare): several whole runs,
// one summary object of §8.1 or §8.2.
int run_multi(const bench_cli& o, bench_config cfg, const std::optional<bench_config>& b,
              std::optional<double> require_idle, const std::vector<gate>& gates) {
    const std::uint64_t clients = cfg.scenario == "conn" ? cfg.clients : cfg.publishers + cfg.subscribers;
    std::unique_ptr<embedded_broker> broker;
    if (!o.conn.target_given()) {  // a sweep of the embedded broker
        broker = std::make_unique<embedded_broker>(static_cast<std::uint32_t>(clients + 64));
        cfg.host = "127.0.0.1";
        cfg.port = broker->port();
        cfg.url = fmt::format("mqtt://127.0.0.1:{}", cfg.port);
        cfg.embedded_broker = true;
        cfg.broker_cpu_ns = [p = broker.get()] { return p->cpu_ns(); };
    }
    signal_scope signals;
    const run_fn run = [&gates](const bench_config& c) {
        const run_result r = c.scenario == "conn" ? run_conn_bench(c, g_interrupted) : run_bench(c, g_interrupted);
        nlohmann::json s = make_summary(r);
        attach_gates(s, evaluate_gates(gates, s));
        return s;
    };
    multi_options mo;
    mo.require_idle = require_idle;
    mo.interrupted = &g_interrupted;
    nlohmann::json out;
    if (b) {
        const std::uint32_t pairs =
            static_cast<std::uint32_t>(count_arg("pairs", o.pairs.empty() ? "3" : o.pairs, 1, 1000));
        compare_targets t{cfg.url, b->url, cfg.broker_pid, b->broker_pid};
        out = run_compare(cfg, *b, pairs, t, mo, run);
    } else {
        std::string err;
        out = run_sweep(cfg, *parse_rate_list(o.rate, err), mo, run);
    }
    const std::string text = o.json ? out.dump() + "\n" : (b ? compare_text(out) : sweep_text(out));
    if (write_all(1, text) != 0) return exit_status::io;
    if (out.value("interrupted", false)) return exit_status::interrupted;
    return out.value("gates_failed", false) ? exit_status::check_failed : exit_status::ok;
}

int run_bench_command(const bench_cli& o) {
    std::vector<gate> gates;
    for (const auto& text : o.fail_if) {
        std::string err;
        auto g = parse_gates(text, err);
        if (!g) usage(err);
        gates.insert(gates.end(), g->begin(), g->end());
    }
    if (o.scenario == "report") {
        if (!o.report.empty() || !o.series.empty() || !o.hist_out.empty() || !o.fail_if.empty() || o.json)
            usage("bench report takes summary files and -o only");
        return run_report_command(o);
    }
    if (o.output != "-") usage("-o/--output belongs to bench report; a run writes its page with --report");
    if (o.scenario == "merge") {
        if (o.files.empty()) usage("bench merge: name at least one --hist-out file");
        auto merged = merge_files(o.files);  // throws usage/no_input
        for (const auto& w : merged.warnings) print_warning(w);
        return finish(std::move(merged.summary), o, gates, false);
    }
    if (!o.files.empty()) usage("unexpected argument '" + o.files.front() + "'");
    for (const auto* opt : o.session_only) {
        if (opt->count() > 0)
            usage(opt->get_name() + " does not apply to mq bench (client ids, sessions and windows are its own)");
    }
    // No -L/-h/-p (command line, config or MQ_*): benchmark an embedded broker.
    const bool embedded = !o.conn.target_given();
    if (embedded && o.source_ip.find(':') != std::string::npos)
        usage("--source-ip: the embedded broker listens on 127.0.0.1; give -h for an IPv6 target");
    const resolved_connection rc = o.conn.resolve();
    bench_config cfg = make_config(o, rc);
    if (embedded && cfg.transport != mqtt::net::transport_kind::tcp)
        usage("the embedded broker listens on plain TCP: give -h/-p or -L for TLS or WebSocket");
    const bool sweep = o.rate.find(',') != std::string::npos;
    const bool compare = !o.compare.empty();
    if (!compare && (o.compare_pid > 0 || !o.pairs.empty())) usage("--compare-pid and --pairs need --compare");
    if (sweep || compare) {
        if (!o.series.empty() || !o.hist_out.empty() || !o.report.empty())
            usage("--series, --hist-out and --report record one run; not with --compare or a --rate sweep");
        if (sweep && compare) usage("--compare takes one rate; compare each step of a sweep on its own");
        if (compare && embedded) usage("--compare needs target A as well (-L, -h or -p)");
    }
    std::optional<double> require_idle;
    if (!o.require_idle.empty()) {
        double pct = -1;
        try {
            std::size_t used = 0;
            pct = std::stod(o.require_idle, &used);
            if (used != o.require_idle.size()) pct = -1;
        } catch (const std::exception&) {
        }
        if (!(pct > 0 && pct <= 100)) usage("--require-idle: a busy percentage in 0..100, e.g. 15");
        require_idle = pct;
    }
    if (!cfg.rate) {
        for (const auto& g : gates) {
            if (needs_latency(g))
                usage("--fail-if '" + g.expr + "': a closed-loop run (--rate max) measures no latency");
        }
    }
    if (o.hist_out.size() > 0) {
        std::ofstream probe(o.hist_out, std::ios::app);
        if (!probe) throw std::system_error(make_error_code(tool_error::io), "cannot write " + o.hist_out);
    }
    if (!o.report.empty()) {
        std::ofstream probe(o.report, std::ios::app);
        if (!probe) cannot_write(o.report);
    }
    // The series is written as each second completes, so `tail -f` follows the run.
    std::shared_ptr<std::ofstream> series_file;
    if (!o.series.empty()) {
        series_file = std::make_shared<std::ofstream>(open_output(o.series));
        const bool csv = o.series.ends_with(".csv");
        if (csv) *series_file << series_csv_header() << std::flush;
        cfg.on_second = [series_file, csv](const series_point& p) {
            *series_file << (csv ? series_csv_line(p) : to_json(p).dump() + "\n") << std::flush;
        };
    }
    const std::uint64_t clients = cfg.scenario == "conn" ? cfg.clients : cfg.publishers + cfg.subscribers;
    // Pre-flight (bench-method §6): local ports per source address, then descriptors.
    if (const auto range = read_port_range()) {
        if (auto err = check_port_range(clients, std::max<std::size_t>(cfg.source_ips.size(), 1), *range))
            throw std::system_error(make_error_code(tool_error::config), *err);
    }
    if (auto err = ensure_fd_limit(clients * (embedded ? 2 : 1) + 64)) {
        throw std::system_error(make_error_code(tool_error::config), *err);
    }
    if (sweep || compare) {
        std::optional<bench_config> b;
        if (compare) b = compare_config(o, cfg);
        return run_multi(o, cfg, b, require_idle, gates);
    }
    std::unique_ptr<embedded_broker> broker;
    if (embedded) {
        broker = std::make_unique<embedded_broker>(static_cast<std::uint32_t>(clients + 64));
        cfg.host = "127.0.0.1";
        cfg.port = broker->port();
        cfg.url = fmt::format("mqtt://127.0.0.1:{}", cfg.port);
        cfg.embedded_broker = true;
        cfg.broker_cpu_ns = [b = broker.get()] { return b->cpu_ns(); };
    }
    signal_scope signals;
    std::optional<idle_outcome> idle;
    if (require_idle) idle = wait_for_idle(*require_idle, std::chrono::seconds(180), g_interrupted);
    run_result r = cfg.scenario == "conn" ? run_conn_bench(cfg, g_interrupted) : run_bench(cfg, g_interrupted);
    broker.reset();
    if (series_file) {
        series_file->close();
        if (!*series_file) cannot_write(o.series);
    }
    if (!o.hist_out.empty()) {
        std::ofstream f(o.hist_out, std::ios::trunc);
        f << make_hist_dump(r).dump() << '\n';
        if (!f) throw std::system_error(make_error_code(tool_error::io), "cannot write " + o.hist_out);
    }
    nlohmann::json summary = make_summary(r);
    if (idle && !r.interrupted) apply_idle(summary, *idle, *require_idle, std::chrono::seconds(180));
    return finish(std::move(summary), o, gates, r.interrupted);
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto o = std::make_shared<bench_cli>();
    auto* cmd =
        app.add_subcommand("bench", "Benchmark a broker: throughput, latency, loss (bench-method.md)");
    cmd->add_option("scenario", o->scenario, "e2e (default), pub, sub, fan-in, fan-out, shared, conn, merge, report")
        ->check(CLI::IsMember({"e2e", "pub", "sub", "fan-in", "fan-out", "shared", "conn", "merge", "report"}));
    cmd->add_option("files", o->files, "merge: --hist-out files to combine; report: --json summaries or --hist-out files");
    // The connection options of mq pub (§2); none of -h/-p/-L: an embedded broker is started.
    o->conn.add_to(*cmd, false);
    for (const char* name : {"--client-id", "--client-id-prefix", "--no-clean-start", "--session-expiry",
                             "--will-topic", "--will-payload", "--will-qos", "--will-retain", "--reconnect",
                             "--connect-timeout", "--max-inflight", "--max-packet-size", "--receive-maximum",
                             "--topic-alias-maximum", "--request-response-info", "--no-request-problem-info",
                             "--timeout", "--property"}) {
        if (auto* opt = cmd->get_option_no_throw(name)) o->session_only.push_back(opt);
    }
    cmd->add_option("--source-ip", o->source_ip,
                    "Bind clients round-robin to these source addresses: A,B,... or an IPv4 block A/N");
    cmd->add_option("--publishers", o->publishers, "Publishers (1; fan-in 10)");
    cmd->add_option("--subscribers", o->subscribers, "Subscribers (1; fan-out 10)");
    cmd->add_option("--clients", o->clients, "conn: clients to connect (100)");
    cmd->add_option("-q,--qos", o->qos, "Publish QoS")->check(CLI::Range(0, 2));
    cmd->add_option("--sub-qos", o->sub_qos, "Subscription QoS (default: -q)")->check(CLI::Range(0, 2));
    cmd->add_option("--topic", o->topic, "Topic template: {run} run id, %i client index, %c counter (%% is %)");
    cmd->add_option("--shared-group,--share", o->shared_group,
                    "Subscribers share $share/NAME/filter (shared: mq-bench); loss counted per group");
    cmd->add_option("--count", o->count, "End the window after N messages over all publishers");
    cmd->add_option("--payload-size", o->payload, "Payload bytes, at least 40 (64)");
    cmd->add_option("--rate", o->rate,
                    "Aggregate msg/s (open loop, latency), max (closed loop), or a sweep R1,R2,... (knee marked)");
    cmd->add_option("--window", o->window, "QoS 1/2 in-flight messages per publisher (100)");
    cmd->add_option("--max-unsent", o->max_unsent, "QoS 0 closed loop: unsent bytes per publisher (64KiB)");
    cmd->add_option("--warmup", o->warmup, "Warm-up, not recorded (5s)");
    cmd->add_option("--duration", o->duration, "Measurement window (20s; with --count, its cap)");
    cmd->add_option("--drain", o->drain, "Wait for outstanding messages (5s)");
    cmd->add_option("--hold", o->hold, "conn: hold connections (10s)");
    cmd->add_option("--connect-rate", o->connect_rate, "Clients started per second, every scenario (1000)");
    cmd->add_option("--connect-concurrency", o->connect_concurrency, "Handshakes in flight at most (100)");
    cmd->add_option("--threads", o->threads, "Generator threads (1)");
    cmd->add_option("--clock", o->clock, "monotonic or wall")->check(CLI::IsMember({"monotonic", "wall"}));
    cmd->add_option("--run-id", o->run_id, "Run id, 8 hex digits (random)");
    cmd->add_flag("--json", o->json, "One JSON summary object on stdout");
    cmd->add_option("--hist-out", o->hist_out, "Write every histogram and counter to FILE (for bench merge)");
    cmd->add_option("--series", o->series, "Write one record per second to FILE (NDJSON, or CSV for .csv)");
    cmd->add_option("--report", o->report, "Write an HTML page with plots of this run to FILE");
    cmd->add_option("-o,--output", o->output, "bench report: the HTML file to write (- = stdout)");
    cmd->add_option("--fail-if", o->fail_if, "Gate, e.g. 'p99>5ms,lost>0,rate<10000'; exit 1 when it holds")
        ->allow_extra_args(false);
    cmd->add_option("--broker-pid", o->broker_pid, "Broker process for CPU and RSS figures");
    cmd->add_option("--compare", o->compare, "Second target URL: run A,B,A,B,... and report B/A (bench-method 13)");
    cmd->add_option("--compare-pid", o->compare_pid, "--compare: target B's broker process, as --broker-pid for A");
    cmd->add_option("--pairs", o->pairs, "--compare: pairs of runs A,B (3)");
    cmd->add_option("--require-idle", o->require_idle,
                    "Before each run wait up to 180s for the machine to be below PCT busy, else mark it noisy");
    cmd->callback([o] { globals().run = [o] { return run_bench_command(*o); }; });
}

}  // namespace mq::tools
