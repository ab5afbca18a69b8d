// SPDX-License-Identifier: MIT
// mq sub's output path: records reach the fd complete and in order even when
// the kernel takes only part of a writev (a pipe whose reader is slow).
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "common/stdio.hpp"

namespace {

std::string drain(int fd) {
    std::string got;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
        // Read slowly so the writer sees short writes on a full pipe.
        if (got.size() % 3 == 0) std::this_thread::yield();
    }
    return got;
}

}  // namespace

TEST_CASE("write_all of records: 300 records over a 4 KiB pipe arrive whole and in order") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    // The smallest pipe buffer (one page) makes nearly every writev short.
    (void)::fcntl(p[1], F_SETPIPE_SZ, 4096);
    std::vector<std::string> records;
    std::string expected;
    for (int i = 0; i < 300; ++i) {
        std::string r = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(static_cast<std::size_t>(i * 7 % 900), 'x') + "\"}\n";
        if (i % 50 == 0) r.clear();  // empty records are skipped, not stuck on
        expected += r;
        records.push_back(std::move(r));
    }
    std::string got;
    std::thread reader([&] { got = drain(p[0]); });
    const int err = mq::tools::write_all(p[1], records);
    ::close(p[1]);
    reader.join();
    ::close(p[0]);
    CHECK(err == 0);
    CHECK(got.size() == expected.size());
    CHECK(got == expected);
}

TEST_CASE("write_all of records: a closed reader is reported as EPIPE, not a crash") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[0]);
    mq::tools::ignore_sigpipe();
    const std::vector<std::string> records{"a\n", "b\n"};
    CHECK(mq::tools::write_all(p[1], records) == EPIPE);
    ::close(p[1]);
}

TEST_CASE("stdout_writer: queued records all reach the fd in order by flush()") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::string got;
    std::thread reader([&] { got = drain(p[0]); });
    std::string expected;
    {
        mq::tools::stdout_writer w(p[1], 64);
        for (int i = 0; i < 2000; ++i) {
            std::string r = std::to_string(i) + "\n";
            expected += r;
            int tries = 0;  // queue full: the writer thread catches up
            while (!w.try_push(r) && ++tries < 10'000'000) std::this_thread::yield();
            REQUIRE(tries < 10'000'000);
        }
        w.flush();
        CHECK(w.status() == mq::tools::stdout_writer::state::ok);
    }
    ::close(p[1]);
    reader.join();
    ::close(p[0]);
    CHECK(got == expected);
}

TEST_CASE("stdout_writer: try_push_reusing hands back an empty buffer and every batch arrives in order") {
    // mq sub batches records into one string and pushes it with
    // try_push_reusing; the buffer it gets back must be empty (never a batch
    // already queued, which would write it twice) and may be a recycled one.
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::string got;
    std::thread reader([&] { got = drain(p[0]); });
    std::string expected;
    std::size_t recycled = 0;
    {
        mq::tools::stdout_writer w(p[1], 4);
        std::string batch;
        for (int i = 0; i < 3000; ++i) {
            batch.append(std::to_string(i)).append(",");
            if (i % 7 != 6) continue;
            batch.push_back('\n');
            expected += batch;
            int tries = 0;
            while (!w.try_push_reusing(batch) && ++tries < 10'000'000) std::this_thread::yield();
            REQUIRE(tries < 10'000'000);
            CHECK(batch.empty());
            if (batch.capacity() > 15) ++recycled;  // larger than the small-string buffer: a used one
        }
        w.flush();
    }
    ::close(p[1]);
    reader.join();
    ::close(p[0]);
    CHECK(got == expected);
    CHECK(recycled > 0);
}

TEST_CASE("stdout_writer: to a regular file, inline and queued records keep their order") {
    // A regular file is written inline while the writer thread is idle, and
    // through the queue otherwise; mixing both must not reorder anything.
    char path[] = "/tmp/mq-stdout-writer-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    std::string expected;
    {
        mq::tools::stdout_writer w(fd, 8);
        std::string batch;
        for (int i = 0; i < 5000; ++i) {
            std::string r = std::to_string(i) + "\n";
            expected += r;
            int tries = 0;
            if (i % 3 == 0) {
                while (!w.try_push(r) && ++tries < 10'000'000) std::this_thread::yield();
            } else {
                batch = r;
                while (!w.try_push_reusing(batch) && ++tries < 10'000'000) std::this_thread::yield();
                CHECK(batch.empty());
            }
            REQUIRE(tries < 10'000'000);
        }
        w.flush();
        CHECK(w.status() == mq::tools::stdout_writer::state::ok);
    }
    std::string got(expected.size() + 16, '\0');
    const ssize_t n = ::pread(fd, got.data(), got.size(), 0);
    ::close(fd);
    REQUIRE(n >= 0);
    got.resize(static_cast<std::size_t>(n));
    CHECK(got == expected);
}

TEST_CASE("stdout_writer: a regular file that cannot be written reports failed with errno") {
    // /dev/full is not a regular file, so use a read-only descriptor of one.
    char path[] = "/tmp/mq-stdout-writer-XXXXXX";
    const int tmp = ::mkstemp(path);
    REQUIRE(tmp >= 0);
    ::close(tmp);
    const int fd = ::open(path, O_RDONLY);
    ::unlink(path);
    REQUIRE(fd >= 0);
    {
        mq::tools::stdout_writer w(fd, 8);
        std::string r = "x\n";
        CHECK_FALSE(w.try_push_reusing(r));
        CHECK(w.status() == mq::tools::stdout_writer::state::failed);
        CHECK(w.error() == EBADF);
        std::string again = "y\n";
        CHECK_FALSE(w.try_push_reusing(again));
    }
    ::close(fd);
}
