// The deterministic simulation in the unit tier: 100 seeds of 1,000 steps each. A failing seed
// prints the shortest sequence that still fails, step by step with every agent answer.
#include <fmt/core.h>

#include "sim/simulation.hpp"
#include "support/catch.hpp"

TEST_CASE("simulation: 100,000 steps, the domain never runs on two nodes and no action is late", "[sim]") {
  long actions = 0;
  std::size_t steps = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const auto sequence = vmha::sim::random_steps(seed, 1'000);
    const auto outcome = vmha::sim::simulate(sequence);
    steps += outcome.steps_run;
    actions += outcome.actions;
    if (outcome.ok) continue;
    const auto shortest = vmha::sim::shrink(sequence);
    const auto replay = vmha::sim::simulate(shortest, true);
    std::string trace;
    for (const auto& line : replay.log) trace += line + "\n";
    FAIL(fmt::format("seed {}: {}\nshortest failing sequence, {} steps: {}\n{}", seed, outcome.failure, shortest.size(),
                     replay.failure, trace));
  }
  CHECK(steps == 100'000);
  CHECK(actions > 20'000);  // the faults leave Pacemaker room to act
}

TEST_CASE("simulation: a failing sequence shrinks to the steps that matter", "[sim]") {
  // A made-up failure: a node crash followed, later, by a cleanup. Buried in 1,000 random steps,
  // it shrinks to exactly those two.
  using vmha::sim::Step;
  using vmha::sim::StepKind;
  const auto fails = [](const std::vector<Step>& steps) {
    bool crashed = false;
    for (const auto& step : steps) {
      if (step.kind == StepKind::node_crash) crashed = true;
      if (crashed && step.kind == StepKind::cleanup) return true;
    }
    return false;
  };
  const auto sequence = vmha::sim::random_steps(7, 1'000);
  REQUIRE(fails(sequence));
  const auto shortest = vmha::sim::shrink(sequence, fails);
  REQUIRE(shortest.size() == 2);
  CHECK(shortest[0].kind == StepKind::node_crash);
  CHECK(shortest[1].kind == StepKind::cleanup);
}
