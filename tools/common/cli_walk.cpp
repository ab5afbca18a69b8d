// SPDX-License-Identifier: MIT
#include "common/cli_walk.hpp"

namespace mq::tools {

std::vector<const CLI::Option*> options_of(const CLI::App& app) {
    std::vector<const CLI::Option*> out = app.get_options();
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (!sub->get_name().empty()) continue;
        const auto more = options_of(*sub);
        out.insert(out.end(), more.begin(), more.end());
    }
    return out;
}

std::vector<CLI::App*> subcommands_of(CLI::App& app) {
    return app.get_subcommands([](CLI::App* sub) { return !sub->get_name().empty(); });
}

}  // namespace mq::tools
