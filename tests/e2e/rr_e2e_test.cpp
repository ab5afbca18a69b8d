// SPDX-License-Identifier: MIT
// mq rr (cli-contract.md §6) against a real broker with a responder written
// with mqtt::net::client on its own thread: stdout bytes and exit codes.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include <mqtt/net/client.hpp>

#include "e2e_broker.hpp"

using namespace mq::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// One reply the responder sends for a request.
struct reply {
    std::string payload;
    /// Correlation Data to send; nullopt copies the request's (v5).
    std::optional<std::string> correlation;
    /// Topic to publish on; empty uses the request's Response Topic.
    std::string topic;
};

using reply_fn = std::function<std::vector<reply>(const mqtt::publish& request)>;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Subscribes to the request topic and answers each request with `make`'s
// replies (QoS 1). Runs on its own io_context thread; stopped and joined by
// the destructor.
class responder {
public:
    responder(std::uint16_t port, std::string request_topic, mqtt::protocol_version v, reply_fn make)
        : make_(std::move(make)) {
        mqtt::net::client_options o;
        o.host = "127.0.0.1";
        o.port = port;
        o.connect.version = v;
        o.connect.client_id = "rr-responder";
        client_ = std::make_unique<mqtt::net::client>(ioc_.get_executor(), o);
        asio::co_spawn(ioc_, run(std::move(request_topic)), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~responder() {
        asio::post(ioc_, [this] { client_->close(); });
        ioc_.stop();
        thread_.join();
    }
    responder(const responder&) = delete;
    responder& operator=(const responder&) = delete;

    /// True once the request subscription is acknowledged (within 10 s).
    bool ready() { return ready_future_.wait_for(10s) == std::future_status::ready && ready_future_.get(); }

    std::vector<mqtt::publish> requests() {
        std::lock_guard lk(mu_);
        return requests_;
    }

private:
    asio::awaitable<void> run(std::string request_topic) {
        try {
            co_await client_->connect();
            std::vector<mqtt::subscription> subs(1);
            subs[0].filter = request_topic;
            subs[0].max_qos = mqtt::qos::at_least_once;
            co_await client_->subscribe(std::move(subs));
            ready_.set_value(true);
        } catch (...) {
            ready_.set_value(false);
            co_return;
        }
        try {
            while (auto req = co_await client_->receive()) {
                {
                    std::lock_guard lk(mu_);
                    requests_.push_back(*req);
                }
                for (const auto& r : make_(*req)) {
                    mqtt::publish m;
                    m.level = mqtt::qos::at_least_once;
                    m.payload = bytes(r.payload);
                    m.topic = r.topic;
                    if (const auto* rt = req->props.get_string(mqtt::property_id::response_topic); rt && m.topic.empty())
                        m.topic = *rt;
                    if (r.correlation) {
                        m.props.set_binary(mqtt::property_id::correlation_data, bytes(*r.correlation));
                    } else if (const auto* cd = req->props.get_binary(mqtt::property_id::correlation_data)) {
                        m.props.set_binary(mqtt::property_id::correlation_data, *cd);
                    }
                    co_await client_->publish(std::move(m));
                }
            }
        } catch (...) {
            // Closed by the destructor.
        }
    }

    asio::io_context ioc_;
    std::unique_ptr<mqtt::net::client> client_;
    reply_fn make_;
    std::promise<bool> ready_;
    std::future<bool> ready_future_ = ready_.get_future();
    std::mutex mu_;
    std::vector<mqtt::publish> requests_;
    std::thread thread_;
};

std::string text_of(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("e2e rr v5: response topic from Response Information, correlation data copied, -v output and --latency") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    responder resp(broker.port(), "e2e/rr/req", mqtt::protocol_version::v5,
                   [](const mqtt::publish& req) { return std::vector<reply>{{"pong:" + text_of(req.payload), std::nullopt, ""}}; });
    REQUIRE(resp.ready());
    const auto r = run_mq({"rr", "-p", broker.port_text(), "-t", "e2e/rr/req", "-m", "ping", "-q", "1", "-v",
                           "-W", "10s", "--latency"});
    CHECK(r.exit_code == 0);
    const auto reqs = resp.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(text_of(reqs[0].payload) == "ping");
    CHECK(reqs[0].level == mqtt::qos::at_least_once);
    const auto* rt = reqs[0].props.get_string(mqtt::property_id::response_topic);
    REQUIRE(rt != nullptr);
    // mq broker gives Response Information $response/<client id>/ (3.2.2.3.15),
    // which mq rr extends; mosquitto gives none, so the fallback topic is used.
    if (broker.kind() == "mq") CHECK(std::regex_match(*rt, std::regex("\\$response/[^/]+/[0-9a-f]{16}")));
    const auto* cd = reqs[0].props.get_binary(mqtt::property_id::correlation_data);
    REQUIRE(cd != nullptr);
    CHECK(cd->size() == 16);
    CHECK(r.out == *rt + " pong:ping\n");
    CHECK(r.err.find("round trip") != std::string::npos);
}

TEST_CASE("e2e rr v5 ignores responses with other correlation data and counts --responses 2") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    responder resp(broker.port(), "e2e/rr/req2", mqtt::protocol_version::v5, [](const mqtt::publish&) {
        return std::vector<reply>{
            {"wrong", std::string("not-ours"), ""},
            {"one", std::nullopt, ""},
            {"empty-cd", std::string(), ""},
            {"two", std::nullopt, ""},
        };
    });
    REQUIRE(resp.ready());
    auto r = run_mq({"rr", "-p", broker.port_text(), "-t", "e2e/rr/req2", "-m", "q", "--responses", "2", "-W", "10s"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "one\ntwo\n");
    // Only two matching responses exist: a third is never met, so -W ends it with 124.
    r = run_mq({"rr", "-p", broker.port_text(), "-t", "e2e/rr/req2", "-m", "q", "--responses", "3", "-W", "1s"});
    CHECK(r.exit_code == 124);
    CHECK(r.out == "one\ntwo\n");
}

TEST_CASE("e2e rr ignores a stale retained response on a fixed -e topic") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    const std::string p = broker.port_text();
    for (const char* v : {"5", "311"}) {
        CAPTURE(v);
        const std::string resp_topic = std::string("e2e/rr/fixed") + v;
        // A retained reply from an earlier run, with a fixed correlation the responder also uses.
        REQUIRE(run_mq({"pub", "-p", p, "-t", resp_topic, "-r", "-q", "1", "-m", "stale", "--correlation-data",
                        "fixed"})
                    .exit_code == 0);
        const auto version = std::string(v) == "5" ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
        responder resp(broker.port(), "e2e/rr/req-fixed", version, [resp_topic](const mqtt::publish& req) {
            return std::vector<reply>{{"fresh:" + text_of(req.payload), std::nullopt, resp_topic}};
        });
        REQUIRE(resp.ready());
        const auto r = run_mq({"rr", "-p", p, "-V", v, "-t", "e2e/rr/req-fixed", "-e", resp_topic, "-m", "x", "-W",
                               "10s"});
        CHECK(r.exit_code == 0);
        CHECK(r.out == "fresh:x\n");
        const auto reqs = resp.requests();
        REQUIRE(reqs.size() == 1);
        if (version == mqtt::protocol_version::v5) {
            const auto* rt = reqs[0].props.get_string(mqtt::property_id::response_topic);
            REQUIRE(rt != nullptr);
            CHECK(*rt == resp_topic);
        }
        CHECK(run_mq({"pub", "-p", p, "-t", resp_topic, "-r", "-n", "-q", "1"}).exit_code == 0);
    }
}

TEST_CASE("e2e rr 3.1.1: the response topic is the only correlation, with a warning") {
    e2e_broker broker;
    CAPTURE(broker.kind());
    responder resp(broker.port(), "e2e/rr/req311", mqtt::protocol_version::v311, [](const mqtt::publish& req) {
        // 3.1.1 carries no Response Topic: the responder knows it by convention.
        return std::vector<reply>{{"v311:" + text_of(req.payload), std::nullopt, "e2e/rr/resp311"}};
    });
    REQUIRE(resp.ready());
    const auto r = run_mq({"rr", "-p", broker.port_text(), "-V", "311", "-t", "e2e/rr/req311", "-e", "e2e/rr/resp311",
                           "-m", "hi", "--json", "-W", "10s"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(R"("topic":"e2e/rr/resp311")") != std::string::npos);
    CHECK(r.out.find(R"("payload":"v311:hi")") != std::string::npos);
    CHECK(r.out.find(R"("filters":["e2e/rr/resp311"]})") != std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK(r.err.find("3.1.1") != std::string::npos);
    REQUIRE(resp.requests().size() == 1);
    CHECK(resp.requests()[0].props.empty());
}

TEST_CASE("e2e rr without a responder: -W exits 124 with nothing on stdout; usage errors exit 64") {
    e2e_broker broker;
    const std::string p = broker.port_text();
    auto r = run_mq({"rr", "-p", p, "-t", "e2e/rr/nobody", "-m", "x", "-W", "400ms"}, {}, 10s);
    CHECK(r.exit_code == 124);
    CHECK(r.out.empty());
    CHECK(run_mq({"rr", "-p", p, "-t", "e2e/rr/x"}).exit_code == 64);                      // no payload source
    CHECK(run_mq({"rr", "-p", p, "-t", "e2e/rr/+", "-m", "x"}).exit_code == 64);           // wildcard topic
    CHECK(run_mq({"rr", "-p", p, "-t", "a", "-e", "r/#", "-m", "x"}).exit_code == 64);     // wildcard -e
    CHECK(run_mq({"rr", "-p", p, "-t", "a", "-m", "x", "--responses", "0"}).exit_code == 64);
    CHECK(run_mq({"rr", "-p", p, "-t", "a", "-m", "x", "--correlation-data", "c"}).exit_code == 64);  // not an rr option
    CHECK(run_mq({"rr", "-p", p, "-t", "a", "-m", "x", "-D", "publish", "correlation-data", "c"}).exit_code == 64);
    CHECK(run_mq({"rr", "-p", p, "-t", "a", "-m", "x", "-D", "publish", "response-topic", "r"}).exit_code == 64);
}

TEST_CASE("e2e rr --expect counts only responses satisfying the predicate") {
    e2e_broker broker;
    responder resp(broker.port(), "e2e/rr/req-expect", mqtt::protocol_version::v5, [](const mqtt::publish&) {
        return std::vector<reply>{
            {R"({"status":"busy"})", std::nullopt, ""},
            {R"({"status":"ok","n":2})", std::nullopt, ""},
        };
    });
    REQUIRE(resp.ready());
    const auto r = run_mq({"rr", "-p", broker.port_text(), "-t", "e2e/rr/req-expect", "-n", "--expect",
                           R"(payload.status == "ok")", "-F", "%l:%p", "-W", "10s"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == R"(21:{"status":"ok","n":2})" "\n");
    REQUIRE(resp.requests().size() == 1);
    CHECK(resp.requests()[0].payload.empty());
}
