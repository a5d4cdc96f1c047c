// Autoregressive generation: at inference there is no teacher -- each chosen token is fed back as the
// next input. Strategies: greedy, sampling (temperature, top-k, top-p) and beam search; all
// deterministic given the options (sampling draws from PCG32, whose stream is the same everywhere,
// unlike std:: distributions).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "transformer.h"

namespace stepwise {

// PCG32 (M. E. O'Neill, pcg-random.org: pcg32_srandom_r / pcg32_random_r).
class Pcg32 {
 public:
  explicit Pcg32(uint64_t seed = 0, uint64_t stream = 0x5EED);
  uint32_t next();
  float uniform();  // in [0, 1), 24 random bits
 private:
  uint64_t state_ = 0, inc_ = 0;
};

struct SamplingOptions {
  float temperature = 1.0f;  // > 0: logits are divided by it before the softmax
  int top_k = 0;             // 0: off; else keep only the k most likely tokens
  float top_p = 1.0f;        // in (0, 1]: keep the smallest set of most likely tokens reaching this mass
  uint64_t seed = 0;
};

enum class Strategy { Greedy, Sample, Beam };

struct DecodeOptions {
  Strategy strategy = Strategy::Greedy;
  SamplingOptions sampling;    // Strategy::Sample
  int beam_width = 5;          // Strategy::Beam
  float length_penalty = 1.0f; // beams are ranked by log P / length^length_penalty
  int n_best = 1;              // beam hypotheses returned, <= beam_width
  int max_length = 0;          // generated tokens at most (</s> included); 0: as many as the model allows
  // Throws a clear Error for out-of-range values (temperature <= 0, top_p outside (0, 1], ...).
  void validate() const;
};

// Turns logits into the distribution a token is drawn from, and draws it.
//   greedy: probs = softmax(logits); choice = argmax (the lowest id on ties)
//   sample: probs = softmax(logits / T), cut to top-k, then to top-p, renormalised; choice ~ probs
class Sampler {
 public:
  Sampler(const DecodeOptions& options, int vocab_size);
  int choose(const float* logits, float* probs);
 private:
  DecodeOptions options_;
  Pcg32 rng_;
  std::vector<int> order_;  // token ids by probability, reused every step
};

// One autoregressive run: greedy or sampling, one token per step(). Holds the encoder output, the KV
// cache and the last step's logits, probabilities and attention rows, sized when the run starts.
class Generator {
 public:
  Generator(std::shared_ptr<const Model> model, const DecodeOptions& options);

  // Encodes `source` (source-vocabulary ids) and rewinds to position 0. For a decoder-only model,
  // `source` is a prompt in the target vocabulary, fed after <s> before the first choice. The KV cache
  // is sized for this run's positions (<s>, the prompt, the length limit); a run that would need more
  // than limits::kMaxRunBytes is refused before anything is allocated.
  void start(const std::vector<int>& source);
  // Feeds the pending input (<s> first, then the previous choice), chooses the next token, returns it.
  int step();
  // Teacher forcing one step at a time: the token the last step chose becomes `token` (a reference's),
  // so the next step feeds it and the KV cache holds the reference, as the teacher-forced pass reads it.
  // done() then follows `token`. Throws before the first step or for a token outside the vocabulary.
  void replace_last(int token);
  bool started() const { return started_; }
  bool done() const;            // </s> chosen, or the length limit reached
  int max_new_tokens() const;   // the length limit for this run

  const std::vector<int>& output() const { return output_; }  // chosen tokens so far (</s> included)
  const std::vector<float>& logits() const { return logits_; }
  const std::vector<float>& probs() const { return probs_; }   // the distribution the last token came from
  const DecoderState& state() const { return state_; }
  const EncoderOutput& encoder() const { return encoder_; }
  const Model& model() const { return *model_; }
  const DecodeOptions& options() const { return options_; }

  // "Open the box": from the next start() on, each step also records every intermediate of the step
  // that chose its token (StepProbe: sized in start(), so steps still allocate nothing).
  void set_probe(bool on) { probing_ = on; if (!on) probe_.reset(); }
  const StepProbe* probe() const { return probe_.get(); }  // null when off, or before the first start()

 private:
  std::shared_ptr<const Model> model_;
  DecodeOptions options_;
  Sampler sampler_;
  EncoderOutput encoder_;
  DecoderState state_;
  StepScratch scratch_;
  std::vector<int> prompt_, output_;
  std::vector<float> logits_, probs_;
  bool started_ = false;
  bool probing_ = false;
  std::unique_ptr<StepProbe> probe_;
};

struct Hypothesis {
  std::vector<int> tokens;  // generated tokens, </s> included when finished
  float log_prob = 0.0f;    // sum of log-probabilities of the tokens
  float score = 0.0f;       // log_prob / length^length_penalty
  bool finished = false;    // ended with </s> (false: stopped by the length limit)
};

// Beam search (as fairseq runs it): keep the `beam_width` most probable prefixes; a prefix that chooses
// </s> among the top beam_width candidates is finished; stop once beam_width hypotheses are finished
// (or at the length limit). Width 1 is exactly greedy decoding.
class BeamSearch {
 public:
  BeamSearch(std::shared_ptr<const Model> model, const DecodeOptions& options);  // validates, allocates nothing
  // As Generator::start, for 2 x beam_width decoder states (a step reorders them into the second set).
  void start(const std::vector<int>& source);
  void step();  // extends every live beam by one token; allocates nothing
  bool done() const { return done_; }
  const std::vector<Hypothesis>& live() const { return live_; }  // best first
  // Every hypothesis finished so far, in the order the steps finished them (</s> chosen, or stopped by
  // the length limit): what results() ranks. A step appends the ones it finishes.
  const std::vector<Hypothesis>& finished() const { return finished_; }
  // The decoder state of live beam i: its attention rows are the ones that chose its newest token.
  const DecoderState& state(int i) const { return states_.at(static_cast<size_t>(i)); }
  const EncoderOutput& encoder() const { return encoder_; }
  // The n_best finished hypotheses, best score first (unfinished beams fill in at the length limit).
  std::vector<Hypothesis> results() const;
  void run() { while (!done_) step(); }

 private:
  std::shared_ptr<const Model> model_;
  DecodeOptions options_;
  EncoderOutput encoder_;
  std::vector<DecoderState> states_, next_states_;  // live beam i's state is states_[i]
  StepScratch scratch_;
  std::vector<float> logits_;  // one beam's, [target vocab]
  std::vector<int> prompt_;
  // Hypotheses move between these lists; each holds a token list taken from spare_tokens_ (filled in
  // start() with lists of the run's length limit) and gives it back when dropped, so a step never
  // allocates. At most 4 x beam_width lists are in use at once (see step()).
  std::vector<Hypothesis> live_, next_, finished_;
  std::vector<std::vector<int>> spare_tokens_;
  struct Candidate {
    float log_prob;
    int beam, token;
  };
  std::vector<Candidate> candidates_;
  int limit_ = 0;
  bool done_ = true;
  float score(const Hypothesis& h) const;
  std::vector<int> take_tokens();
  void give_back(std::vector<Hypothesis>* hypotheses);
};

}  // namespace stepwise
