// SPDX-License-Identifier: MIT
#pragma once
// How many workers the in-process brokers of the integration tests run:
// MQ_TEST_BROKER_WORKERS (default 1). CTest runs the whole suite a second
// time with 3, so every rule is also checked with the connections of one
// test spread over several threads (takeover, shared subscriptions, Wills
// and back-pressure then cross workers).
#include <cstdlib>
#include <string>

namespace mq::test {

inline unsigned broker_workers() {
    const char* v = std::getenv("MQ_TEST_BROKER_WORKERS");
    if (!v || !*v) return 1;
    const unsigned long n = std::strtoul(v, nullptr, 10);
    return n >= 1 && n <= 64 ? static_cast<unsigned>(n) : 1;
}

}  // namespace mq::test
