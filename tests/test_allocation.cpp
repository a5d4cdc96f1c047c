// The decode step's hot path allocates nothing: buffers are sized when a run starts, weights are views
// into one arena, and products are written in place -- for beam search too, whose hypotheses take their
// token lists from a pool filled in start(). Counted by replacing the global operator
// new in this test binary (not under AddressSanitizer, which owns the allocator there).
#include <catch2/catch.hpp>
#include <atomic>
#include <cstdlib>
#include <new>

#include "fixtures.h"

namespace {
std::atomic<long> allocations{0};
}

#if !defined(__SANITIZE_ADDRESS__)
void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

TEST_CASE("a decoder step allocates nothing", "[allocation]") {
  using namespace stepwise;
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const auto& c = model->config();
  for (Strategy strategy : {Strategy::Greedy, Strategy::Sample}) {
    DecodeOptions options;
    options.strategy = strategy;
    Generator g(model, options);
    g.start(c.has_encoder() ? std::vector<int>{1, 2, 3} : std::vector<int>{3});
    const long before = allocations.load();
    while (!g.done()) g.step();
    CHECK(allocations.load() == before);
  }
}

TEST_CASE("a decoder step with the probe on allocates nothing", "[allocation][probe]") {
  using namespace stepwise;
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const auto& c = model->config();
  Generator g(model, DecodeOptions{});
  g.set_probe(true);
  g.start(c.has_encoder() ? std::vector<int>{1, 2, 3} : std::vector<int>{3});
  const long before = allocations.load();
  while (!g.done()) g.step();
  CHECK(allocations.load() == before);
  REQUIRE(g.probe() != nullptr);
  CHECK(g.probe()->position == g.state().position - 1);  // it recorded the last step
}

TEST_CASE("a beam-search step allocates nothing", "[allocation]") {
  using namespace stepwise;
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const auto& c = model->config();
  for (int width : {1, 3, 5}) {
    DecodeOptions options;
    options.strategy = Strategy::Beam;
    options.beam_width = width;
    options.n_best = width;
    BeamSearch beam(model, options);
    beam.start(c.has_encoder() ? std::vector<int>{1, 2, 3} : std::vector<int>{3});
    int steps = 0;
    const long before = allocations.load();
    while (!beam.done()) beam.step(), ++steps;
    const long after = allocations.load();
    INFO(name << ", beam width " << width << ": " << steps << " steps");
    CHECK(after == before);
  }
}
#endif
