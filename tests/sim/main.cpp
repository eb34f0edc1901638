// vmha-sim: the deterministic cluster simulation, for runs longer than CI's. Each run is a
// seed; a failing seed is shrunk to its shortest failing sequence and printed with a trace.
// usage: vmha-sim [--first-seed N] [--runs N] [--steps N]
#include <chrono>
#include <cstdio>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "sim/simulation.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of a two-node cluster running ocf:vmha:VirtualDomain"};
  std::uint64_t first_seed = 1;
  std::uint64_t runs = 100;
  std::size_t steps = 1000;
  app.add_option("--first-seed", first_seed, "the first seed; each run takes the next one");
  app.add_option("--runs", runs, "how many seeds");
  app.add_option("--steps", steps, "steps per run");
  CLI11_PARSE(app, argc, argv);

  const auto began = std::chrono::steady_clock::now();
  std::uint64_t total_steps = 0;
  long actions = 0;
  for (std::uint64_t seed = first_seed; seed < first_seed + runs; ++seed) {
    const auto sequence = vmha::sim::random_steps(seed, steps);
    const auto outcome = vmha::sim::simulate(sequence);
    total_steps += outcome.steps_run;
    actions += outcome.actions;
    if (outcome.ok) continue;
    fmt::print("seed {} fails {}\n", seed, outcome.failure);
    const auto shortest = vmha::sim::shrink(sequence);
    const auto replay = vmha::sim::simulate(shortest, true);
    fmt::print("shortest failing sequence ({} steps): {}\n", shortest.size(), replay.failure);
    for (const auto& line : replay.log) fmt::print("{}\n", line);
    return 1;
  }
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  fmt::print("{} runs, {} steps, {} agent actions: the domain never ran on two nodes, no action was late ({:.1f} s)\n",
             runs, total_steps, actions, seconds);
  return 0;
}
