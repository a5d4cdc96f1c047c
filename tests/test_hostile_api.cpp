// Hostile callers of the engine's C++ API. Each must end in a stepwise::Error that says what is wrong --
// never a crash, std::bad_alloc or silent garbage.
#include <catch2/catch.hpp>
#include <climits>
#include <typeinfo>

#include "fixtures.h"

using namespace stepwise;
using Catch::Matchers::Contains;

namespace {

// The message of the stepwise::Error that f() throws; any other outcome fails the test.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected a stepwise::Error, got " << typeid(e).name() << ": " << e.what());
  }
  FAIL("expected a stepwise::Error, nothing was thrown");
  return "";
}

DecodeOptions beam_options(int width, int max_length) {
  DecodeOptions o;
  o.strategy = Strategy::Beam;
  o.beam_width = width;
  o.max_length = max_length;
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Options

TEST_CASE("BeamSearch checks its options before it allocates anything", "[hostile]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  for (int width : {-1, 0, 65, INT_MIN}) {
    INFO("beam width " << width);
    CHECK(error_of([&] { BeamSearch beam(model, beam_options(width, 0)); }) ==
          "beam width must be between 1 and 64, got " + std::to_string(width));
  }
}
