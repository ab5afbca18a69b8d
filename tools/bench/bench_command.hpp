// SPDX-License-Identifier: MIT
#pragma once

namespace CLI {
class App;
}

namespace mq::tools {

/// Registers `mq bench` (cli-contract.md §8, bench-method.md).
void add_bench_command(CLI::App& app);

}  // namespace mq::tools
