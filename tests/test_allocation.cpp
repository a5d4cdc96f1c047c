// The decode step's hot path allocates nothing: buffers are sized when a Generator is made, weights are
// views into one arena, and products are written in place. Counted by replacing the global operator
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
#endif
