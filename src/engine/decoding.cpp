#include "decoding.h"

#include <algorithm>
#include <cmath>

#include "error.h"

namespace stepwise {

// ---------------------------------------------------------------------------------------------------
// PCG32

Pcg32::Pcg32(uint64_t seed, uint64_t stream) {
  inc_ = (stream << 1u) | 1u;
  next();
  state_ += seed;
  next();
}

uint32_t Pcg32::next() {
  uint64_t old = state_;
  state_ = old * 6364136223846793005ULL + inc_;
  uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float Pcg32::uniform() { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); }

// ---------------------------------------------------------------------------------------------------
// Options

void DecodeOptions::validate() const {
  const SamplingOptions& s = sampling;
  if (!(s.temperature > 0.0f) || !std::isfinite(s.temperature) || s.temperature > 100.0f)
    fail("temperature must be greater than 0 and at most 100, got ", s.temperature);
  if (s.top_k < 0) fail("top_k must be 0 (off) or a positive number of tokens, got ", s.top_k);
  if (!(s.top_p > 0.0f && s.top_p <= 1.0f)) fail("top_p must be in (0, 1], got ", s.top_p);
  if (beam_width < 1 || beam_width > 64) fail("beam width must be between 1 and 64, got ", beam_width);
  if (n_best < 1 || n_best > beam_width) fail("n_best must be between 1 and the beam width ", beam_width, ", got ", n_best);
  if (!std::isfinite(length_penalty) || std::fabs(length_penalty) > 10.0f)
    fail("length_penalty must be between -10 and 10, got ", length_penalty);
  if (max_length < 0) fail("max_length must be 0 (the model's limit) or positive, got ", max_length);
}

namespace {

// Softmax of logits / temperature into probs; returns nothing, probs sums to 1.
void softmax_into(const float* logits, int n, float temperature, float* probs) {
  float max = logits[0];
  for (int i = 1; i < n; ++i) max = std::max(max, logits[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    probs[i] = std::exp((logits[i] - max) / temperature);
    sum += probs[i];
  }
  for (int i = 0; i < n; ++i) probs[i] /= sum;
}

int argmax(const float* x, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

// Generated tokens a run may produce: every decoder position holds one fed token, and the token chosen
// after the last position is never fed, so max_target_len positions yield max_target_len - prompt choices.
int length_limit(const ModelConfig& c, const DecodeOptions& options, int prompt) {
  int limit = c.max_target_len - prompt;
  return options.max_length > 0 ? std::min(limit, options.max_length) : limit;
}

// Decoder positions a run fills: <s>, the prompt, then every choice but the last (never fed back).
int positions_fed(int prompt, int limit) { return 1 + prompt + (limit - 1); }

// The prompt of a decoder-only model, checked (an encoder-decoder model has none: its input is the source).
std::vector<int> prompt_of(const ModelConfig& c, const std::vector<int>& source) {
  if (c.has_encoder()) return {};
  if (static_cast<int>(source.size()) + 1 >= c.max_target_len)
    fail("the prompt has ", source.size(), " tokens; with <s> it leaves no room in max_target_len ", c.max_target_len);
  for (size_t i = 0; i < source.size(); ++i)
    if (source[i] < 0 || source[i] >= c.target_vocab.size())
      fail("prompt token ", source[i], " at position ", i, " is outside the vocabulary [0, ", c.target_vocab.size(), ")");
  return source;
}

// The source tokens the encoder will hold (a longer source is refused by encode() before it allocates).
int source_length(const ModelConfig& c, const std::vector<int>& source) {
  return c.has_encoder() ? static_cast<int>(std::min(source.size(), static_cast<size_t>(c.max_source_len))) : 0;
}

// Feeds what a hypothesis has not fed yet: <s> and the prompt on the first step, else its last token.
// The position comes from the hypothesis (a no-op normally), so a step that failed halfway -- a value
// that was not finite -- leaves nothing behind.
// A probe records the step whose logits choose the next token (the last prompt token's, at first).
void feed(const Model& model, const EncoderOutput& encoder, const std::vector<int>& prompt,
          const std::vector<int>& output, DecoderState* state, StepScratch* scratch, float* logits,
          StepProbe* probe = nullptr) {
  const EncoderOutput* enc = model.config().has_encoder() ? &encoder : nullptr;
  state->position = output.empty() ? 0 : static_cast<int>(prompt.size() + output.size());
  if (output.empty()) {
    decoder_step(model, enc, state, scratch, model.config().bos, logits, prompt.empty() ? probe : nullptr);
    for (size_t i = 0; i < prompt.size(); ++i)
      decoder_step(model, enc, state, scratch, prompt[i], logits, i + 1 == prompt.size() ? probe : nullptr);
  } else {
    decoder_step(model, enc, state, scratch, output.back(), logits, probe);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Sampler

Sampler::Sampler(const DecodeOptions& options, int vocab_size)
    : options_(options), rng_(options.sampling.seed), order_(vocab_size) {
  options_.validate();
}

int Sampler::choose(const float* logits, float* probs) {
  const int n = static_cast<int>(order_.size());
  if (options_.strategy != Strategy::Sample) {
    softmax_into(logits, n, 1.0f, probs);
    return argmax(logits, n);
  }
  const SamplingOptions& s = options_.sampling;
  softmax_into(logits, n, s.temperature, probs);
  for (int i = 0; i < n; ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](int a, int b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); });
  int keep = s.top_k > 0 ? std::min(s.top_k, n) : n;
  if (s.top_p < 1.0f) {  // nucleus of the (renormalised) top-k distribution
    float mass = 0.0f, cumulative = 0.0f;
    for (int r = 0; r < keep; ++r) mass += probs[order_[r]];
    for (int r = 0; r < keep; ++r) {
      cumulative += probs[order_[r]];
      if (cumulative >= s.top_p * mass) {
        keep = r + 1;
        break;
      }
    }
  }
  float kept = 0.0f;
  for (int r = 0; r < keep; ++r) kept += probs[order_[r]];
  for (int r = 0; r < n; ++r) probs[order_[r]] = r < keep ? probs[order_[r]] / kept : 0.0f;
  const float u = rng_.uniform();
  float cumulative = 0.0f;
  for (int r = 0; r < keep; ++r) {
    cumulative += probs[order_[r]];
    if (u < cumulative) return order_[r];
  }
  return order_[keep - 1];  // u fell in the rounding gap above the last cumulative sum
}

// ---------------------------------------------------------------------------------------------------
// Generator

Generator::Generator(std::shared_ptr<const Model> model, const DecodeOptions& options)
    : model_(std::move(model)),
      options_(options),
      sampler_(options, model_->config().target_vocab.size()),
      scratch_(model_->config()),
      logits_(model_->config().target_vocab.size()),
      probs_(model_->config().target_vocab.size()) {
  if (options.strategy == Strategy::Beam) fail("beam search runs through BeamSearch, not Generator");
}

void Generator::start(const std::vector<int>& source) {
  started_ = false;
  const ModelConfig& c = model_->config();
  std::vector<int> prompt = prompt_of(c, source);
  const int limit = length_limit(c, options_, static_cast<int>(prompt.size()));
  const int positions = positions_fed(static_cast<int>(prompt.size()), limit), S = source_length(c, source);
  // besides the state: logits, probabilities, the sampler's order and the output
  check_run_memory(c, S, positions, 0, static_cast<int64_t>(sizeof(float)) * (3 * int64_t{c.target_vocab.size()} + limit));
  if (c.has_encoder()) encode(*model_, source, &encoder_);
  state_.reset(c, positions, S);
  if (probing_) probe_ = std::make_unique<StepProbe>(c, positions, S);
  prompt_ = std::move(prompt);
  output_.clear();
  output_.reserve(static_cast<size_t>(limit));  // step() then never allocates
  sampler_ = Sampler(options_, c.target_vocab.size());
  started_ = true;
}

int Generator::max_new_tokens() const { return length_limit(model_->config(), options_, static_cast<int>(prompt_.size())); }

bool Generator::done() const {
  return started_ && !output_.empty() &&
         (output_.back() == model_->config().eos || static_cast<int>(output_.size()) >= max_new_tokens());
}

int Generator::step() {
  if (!started_) fail("step before encode: start a run with a source first");
  if (done())
    fail("this run is finished (", output_.back() == model_->config().eos ? "</s> was produced" : "length limit reached",
         "); start a new one");
  feed(*model_, encoder_, prompt_, output_, &state_, &scratch_, logits_.data(), probe_.get());
  const int token = sampler_.choose(logits_.data(), probs_.data());
  output_.push_back(token);
  return token;
}

void Generator::replace_last(int token) {
  if (!started_ || output_.empty()) fail("replace_last: no token chosen yet (step first)");
  const int V = model_->config().target_vocab.size();
  if (token < 0 || token >= V) fail("replace_last: token ", token, " is outside the target vocabulary [0, ", V, ")");
  output_.back() = token;
}

// ---------------------------------------------------------------------------------------------------
// BeamSearch

namespace {
DecodeOptions validated(const DecodeOptions& options) {
  options.validate();
  return options;
}
}  // namespace

BeamSearch::BeamSearch(std::shared_ptr<const Model> model, const DecodeOptions& options)
    : model_(std::move(model)), options_(validated(options)), scratch_(model_->config()) {}

float BeamSearch::score(const Hypothesis& h) const {
  return h.log_prob / std::pow(static_cast<float>(h.tokens.size()), options_.length_penalty);
}

std::vector<int> BeamSearch::take_tokens() {
  if (spare_tokens_.empty()) return {};  // (never: start() leaves more than a run uses)
  std::vector<int> tokens = std::move(spare_tokens_.back());
  spare_tokens_.pop_back();
  return tokens;
}

void BeamSearch::give_back(std::vector<Hypothesis>* hypotheses) {
  for (Hypothesis& h : *hypotheses) {
    h.tokens.clear();
    spare_tokens_.push_back(std::move(h.tokens));
  }
  hypotheses->clear();
}

void BeamSearch::start(const std::vector<int>& source) {
  done_ = true;
  const ModelConfig& c = model_->config();
  const int W = options_.beam_width, V = c.target_vocab.size();
  std::vector<int> prompt = prompt_of(c, source);
  limit_ = length_limit(c, options_, static_cast<int>(prompt.size()));
  const int positions = positions_fed(static_cast<int>(prompt.size()), limit_), S = source_length(c, source);
  const size_t token_lists = 4 * static_cast<size_t>(W);
  // besides the states: one beam's logits, every beam's candidates, the token lists
  check_run_memory(c, S, positions, W,
                   static_cast<int64_t>(sizeof(float) * V + sizeof(Candidate) * W * V + sizeof(int) * token_lists * limit_));
  if (c.has_encoder()) encode(*model_, source, &encoder_);
  states_.resize(static_cast<size_t>(W));
  next_states_.resize(static_cast<size_t>(W));
  for (int i = 0; i < W; ++i) {
    states_[i].reset(c, positions, S);
    next_states_[i].reset(c, positions, S);
  }
  logits_.resize(static_cast<size_t>(V));
  candidates_.reserve(static_cast<size_t>(W) * V);
  spare_tokens_.reserve(token_lists);
  give_back(&live_);
  give_back(&next_);
  give_back(&finished_);
  spare_tokens_.resize(token_lists);
  for (std::vector<int>& tokens : spare_tokens_) tokens.reserve(static_cast<size_t>(limit_));
  live_.reserve(static_cast<size_t>(W));
  next_.reserve(static_cast<size_t>(W));
  finished_.reserve(3 * static_cast<size_t>(W));
  live_.push_back(Hypothesis{take_tokens(), 0.0f, 0.0f, false});
  prompt_ = std::move(prompt);
  done_ = false;
}

void BeamSearch::step() {
  if (done_) fail("this beam search is finished (or was never started); start a new one");
  const ModelConfig& c = model_->config();
  const int V = c.target_vocab.size(), W = options_.beam_width;
  candidates_.clear();
  for (size_t b = 0; b < live_.size(); ++b) {
    float* logits = logits_.data();
    feed(*model_, encoder_, prompt_, live_[b].tokens, &states_[b], &scratch_, logits);
    // log_softmax, then every continuation of this beam is a candidate
    float max = logits[0];
    for (int t = 1; t < V; ++t) max = std::max(max, logits[t]);
    float sum = 0.0f;
    for (int t = 0; t < V; ++t) sum += std::exp(logits[t] - max);
    const float log_z = max + std::log(sum);
    for (int t = 0; t < V; ++t) candidates_.push_back({live_[b].log_prob + logits[t] - log_z, static_cast<int>(b), t});
  }
  const size_t top = std::min(candidates_.size(), static_cast<size_t>(2 * W));
  std::partial_sort(candidates_.begin(), candidates_.begin() + top, candidates_.end(), [](const Candidate& a, const Candidate& b) {
    if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
    return a.beam != b.beam ? a.beam < b.beam : a.token < b.token;
  });
  // Token lists in use: live_ and next_ (W each) and finished_ (under W before this step, which adds at
  // most W) -- fewer than the 4 W of the pool.
  for (size_t r = 0; r < top && static_cast<int>(next_.size()) < W; ++r) {
    const Candidate& cand = candidates_[r];
    const bool finished = cand.token == c.eos;
    if (finished && static_cast<int>(r) >= W) continue;  // </s> outside the top W: dropped
    Hypothesis h{take_tokens(), cand.log_prob, 0.0f, finished};
    h.tokens.assign(live_[cand.beam].tokens.begin(), live_[cand.beam].tokens.end());
    h.tokens.push_back(cand.token);
    h.score = score(h);
    if (finished) {
      finished_.push_back(std::move(h));
    } else {
      next_states_[next_.size()].copy_prefix_from(states_[cand.beam]);
      next_.push_back(std::move(h));
    }
  }
  give_back(&live_);
  std::swap(live_, next_);
  std::swap(states_, next_states_);
  if (!live_.empty() && static_cast<int>(live_[0].tokens.size()) >= limit_) {
    for (Hypothesis& h : live_) finished_.push_back(std::move(h));  // stopped by the length limit, unfinished
    live_.clear();
  }
  done_ = live_.empty() || static_cast<int>(finished_.size()) >= W;
}

std::vector<Hypothesis> BeamSearch::results() const {
  std::vector<Hypothesis> sorted = finished_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  if (static_cast<int>(sorted.size()) > options_.n_best) sorted.resize(options_.n_best);
  return sorted;
}

}  // namespace stepwise
