// SPDX-License-Identifier: MIT
#pragma once
namespace CLI {
class App;
}

namespace mq::tools {
/// Adds `passwd` under the `broker` subcommand; returns it so `broker` can tell
/// whether it ran.
CLI::App* add_broker_passwd_command(CLI::App& broker);
}  // namespace mq::tools
