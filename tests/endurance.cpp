// Endurance: N consecutive generations (encode -> steps -> start again) on random words with random
// options, reusing the same Generator/BeamSearch objects as the page does, with the process's resident
// memory measured after a warm-up and at the end. It must stay flat: every buffer is sized once.
//
//   stepwise_endurance MODEL [GENERATIONS=10000]
// Prints the numbers; exits 1 if resident memory grew by more than 256 KiB after the warm-up (in the
// AddressSanitizer build, LeakSanitizer's report at exit is the check instead).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "stepwise.h"

using namespace stepwise;

namespace {

long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4;  // 4 KiB pages
}

}  // namespace

int main(int argc, char** argv) try {
  const int generations = argc > 2 ? std::atoi(argv[2]) : 10000;
  if (argc < 2 || argc > 3 || generations < 1) {
    std::fprintf(stderr, "usage: stepwise_endurance MODEL [GENERATIONS >= 1]\n");
    return 2;
  }
  auto model = Model::load_file(argv[1]);
  const int warm_up = std::max(1, std::min(500, generations / 10));
  const ModelConfig& c = model->config();
  const Vocabulary& vocab = c.has_encoder() ? c.source_vocab : c.target_vocab;
  Pcg32 rng(2024);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng.next() % static_cast<uint32_t>(hi - lo + 1)); };

  DecodeOptions greedy;
  DecodeOptions sample;
  sample.strategy = Strategy::Sample;
  DecodeOptions beam;
  beam.strategy = Strategy::Beam;
  Generator greedy_run(model, greedy);
  long before = 0, tokens = 0, errors = 0;
  for (int i = 0; i < generations; ++i) {
    if (i == warm_up) before = resident_kib();
    // a random "word" of real symbols (occasionally an invalid one, which must fail cleanly)
    std::string text;
    for (int k = pick(1, 12); k > 0; --k) {
      const std::string& t = vocab.token(pick(0, vocab.size() - 1));
      text += (text.empty() || vocab.split() == Vocabulary::Split::Chars ? "" : " ") + t;
    }
    try {
      const std::vector<int> input = encode_input(c, text);
      switch (i % 3) {
        case 0:
          greedy_run.start(input);
          while (!greedy_run.done()) greedy_run.step(), ++tokens;
          break;
        case 1: {
          sample.sampling = {0.2f + 2.0f * rng.uniform(), pick(0, 10), 0.05f + 0.95f * rng.uniform(), rng.next()};
          Generator run(model, sample);  // options change: a new object, as the page does
          run.start(input);
          while (!run.done()) run.step(), ++tokens;
          break;
        }
        default: {
          beam.beam_width = pick(1, 6);
          beam.length_penalty = rng.uniform();
          BeamSearch search(model, beam);
          search.start(input);
          search.run();
          tokens += static_cast<long>(search.results().at(0).tokens.size());
        }
      }
    } catch (const Error&) {
      ++errors;  // e.g. "<pad>" typed as a symbol
    }
  }
  const long after = resident_kib();
  std::printf("%d generations (%ld tokens, %ld rejected inputs); resident memory after warm-up %ld KiB, at the end %ld KiB (%+ld KiB)\n",
              generations, tokens, errors, before, after, after - before);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed blocks in a quarantine (256 MB by default), so resident memory grows
  // whether or not anything leaks; here LeakSanitizer, which runs at exit, is the check.
  std::printf("AddressSanitizer build: resident memory not checked; LeakSanitizer checks for leaks at exit\n");
  return 0;
#else
  return after - before > 256 ? 1 : 0;
#endif
} catch (const std::exception& e) {
  std::fprintf(stderr, "stepwise_endurance: %s\n", e.what());
  return 2;
}
