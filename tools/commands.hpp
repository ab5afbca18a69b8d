// SPDX-License-Identifier: MIT
#pragma once
// Each subcommand file registers itself on the root app; main.cpp calls these.
namespace CLI { class App; }

namespace mq::tools {
void add_pub_command(CLI::App& app);
void add_sub_command(CLI::App& app);
void add_rr_command(CLI::App& app);
void add_retain_clear_command(CLI::App& app);
void add_broker_command(CLI::App& app);
}  // namespace mq::tools
