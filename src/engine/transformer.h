// The forward pass of an encoder-decoder Transformer (Vaswani et al. 2017, §3.1), with the exact
// semantics of torch.nn.Transformer, in two forms:
//
//  * whole sequences (encode(), forward()): the encoder, and the teacher-forced decoder that reads the
//    full target at once and relies on an explicit causal mask (0 / -inf) to keep each position from
//    seeing the future -- how the model is trained;
//  * one position at a time (decoder_step()): autoregressive inference. The self-attention keys and
//    values of earlier positions come from a cache, so a step costs O(position), and causality holds by
//    construction: the cache holds no future.
//
// The two must agree (tests/test_invariants.cpp); the sequence form with the mask switched off shows
// what leaks when the mask is missing.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <vector>

#include "model.h"

namespace stepwise {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// nn.Transformer.generate_square_subsequent_mask(n): 0 where query i may attend to key j (j <= i),
// -inf above the diagonal -- the cells `torch.triu(torch.ones(n, n)) == 0` leaves out, transposed.
RowMatrix causal_mask(int n);

// What the encoder leaves for the decoder, computed once per source sequence.
struct EncoderOutput {
  const Model* model = nullptr;           // the model that made it: decoder_step refuses any other
  int length = 0;                         // source positions S
  RowMatrix memory;                       // [S, d_model], after the final encoder LayerNorm
  std::vector<RowMatrix> cross_keys;      // per decoder layer, [S, d_model]: memory W_k^T + b_k
  std::vector<RowMatrix> cross_values;    // per decoder layer, [S, d_model]
  std::vector<RowMatrix> attention;       // [layer * n_heads + head] -> [S, S] encoder self-attention
};

// Runs the encoder over `source` (ids in the source vocabulary) and precomputes every decoder layer's
// cross-attention keys and values.
void encode(const Model& model, const std::vector<int>& source, EncoderOutput* out);

// The decoder's growing state for one hypothesis: the self-attention KV cache, and the attention rows
// of the most recent step. Sized for the positions one run fills (Generator and BeamSearch know them
// when they start); a step allocates nothing.
struct DecoderState {
  DecoderState() = default;  // no room yet: reset() sizes it
  // Room for `capacity` positions (at most max_target_len) over a source of `source_length` tokens (0 for
  // decoder-only models); throws past limits::kMaxRunBytes.
  DecoderState(const ModelConfig& config, int capacity, int source_length);
  // Room for everything the model allows: max_target_len positions over max_source_len tokens.
  explicit DecoderState(const ModelConfig& config);
  // Sizes as the constructor does (allocating only when a size changes), zeroed, at position 0.
  void reset(const ModelConfig& config, int capacity, int source_length);
  int capacity() const { return static_cast<int>(self_attention.cols()); }

  int position = 0;                    // number of tokens fed
  std::vector<RowMatrix> keys, values; // per layer [capacity, d_model]; rows [0, position) valid
  RowMatrix self_attention;            // [layers * heads, capacity]: last step's row, first `position` valid
  RowMatrix cross_attention;           // [layers * heads, max(1, source_length)]: last step's row over the source
  void copy_prefix_from(const DecoderState& other);  // beam search reorders hypotheses with this
};

// "Open the box": everything one decoder step computes, recorded where the engine computes it (not a
// second implementation) when a probe is passed to decoder_step(). Sized once for a model and a run;
// recording allocates nothing, and a step without a probe does exactly what it did before.
struct AttentionProbe {
  int keys = 0;             // keys attended: positions 0..pos (self-attention) or the S source tokens
  Eigen::VectorXf query;    // [d_model] this position's query, q = W_q x + b_q, before scaling
  Eigen::VectorXf key;      // [d_model] this position's key, appended to the cache (self-attention only)
  Eigen::VectorXf value;    // [d_model] this position's value, appended to the cache (self-attention only)
  RowMatrix raw;            // [heads, keys] q_h . k_j
  RowMatrix scaled;         // [heads, keys] (q_h / sqrt(d_k)) . k_j: the softmax's input (no mask: see below)
  RowMatrix weights;        // [heads, keys] softmax(scaled): the attention row
  Eigen::VectorXf context;  // [d_model] sum_j w_j v_j of every head, heads concatenated
};
// A residual sub-layer (see residual(): pre-norm x + f(norm(x)), post-norm norm(x + f(x))).
struct SublayerProbe {
  Eigen::VectorXf normed;  // [d_model] its LayerNorm's output (pre-norm: f's input; post-norm: the new stream)
  Eigen::VectorXf output;  // [d_model] f's output: the attention's out-projection, or linear2
  Eigen::VectorXf sum;     // [d_model] x + f(...): the residual add (pre-norm: the new stream)
};
struct LayerProbe {
  Eigen::VectorXf input;                          // [d_model] the residual stream entering the layer
  SublayerProbe self_block, cross_block, ff_block;  // cross_block unused in decoder-only models
  AttentionProbe self_attention, cross_attention;
  Eigen::VectorXf hidden;                         // [d_ff] the feed-forward's units after the activation
};
struct StepProbe {
  // For `capacity` positions over `source_length` source tokens (as the run's DecoderState).
  StepProbe(const ModelConfig& config, int capacity, int source_length);
  int position = -1, token = -1;     // what the recorded step fed; -1 before any
  // Stepping needs no mask: the cache holds no future, so the step's keys are exactly the positions a
  // causal mask would leave. The teacher-forced pass (ForwardProbe) is where the -inf mask is added.
  Eigen::VectorXf token_embedding;   // [d_model] embedding row, times sqrt(d_model) when the model scales
  Eigen::VectorXf positional;        // [d_model] the position's encoding
  std::vector<LayerProbe> layers;    // the stream entering layer 0 is layers[0].input
  Eigen::VectorXf final_normed;      // [d_model] the final LayerNorm's output, the output projection's input
};

// Scratch vectors of one decoder step, allocated once.
struct StepScratch {
  explicit StepScratch(const ModelConfig& config);
  Eigen::VectorXf x, normed, qkv, context, sublayer, hidden;
};

// Feeds `token` at position state->position (then advances it) and writes the next-token logits
// [target vocab] to `logits`. `encoder` is null for decoder-only models. The encoder output, state and
// scratch must belong to `model` (checked: a few integer compares), and a value that stops being finite
// (float32 overflow, or Inf/NaN written into a cache) ends the step with an Error naming the position
// and the layer instead of turning into garbage logits.
void decoder_step(const Model& model, const EncoderOutput* encoder, DecoderState* state, StepScratch* scratch,
                  int token, float* logits, StepProbe* probe = nullptr);

// The teacher-forced pass's probe: the StepProbe's quantities for all T positions at once, as matrices
// whose row i is position i (and row i of each [heads] matrix list is query i).
struct SequenceAttentionProbe {
  RowMatrix query, key, value;         // [T, d] (cross-attention: key and value are [S, d], from the encoder)
  std::vector<RowMatrix> raw, scaled;  // per head [T, keys]: q.k, and (q / sqrt(d_k)).k before the mask
  RowMatrix mask;                      // [T, keys]: 0 / -inf as added (all 0 with the mask off, and for cross)
  std::vector<RowMatrix> weights;      // per head [T, keys]: softmax(scaled + mask)
  RowMatrix context;                   // [T, d]
};
struct SequenceSublayerProbe {
  RowMatrix normed, output, sum;       // [T, d] each, as SublayerProbe
};
struct SequenceLayerProbe {
  RowMatrix input;                     // [T, d]
  SequenceSublayerProbe self_block, cross_block, ff_block;
  SequenceAttentionProbe self_attention, cross_attention;
  RowMatrix hidden;                    // [T, d_ff]
};
struct ForwardProbe {
  RowMatrix token_embedding, positional;  // [T, d]
  std::vector<SequenceLayerProbe> layers;
  RowMatrix final_normed;                 // [T, d]
};

// The teacher-forced pass: every target position in parallel.
struct ForwardResult {
  RowMatrix logits;                            // [T, target vocab]: row i predicts target[i + 1]
  std::vector<RowMatrix> encoder_attention;    // [layer * heads + head] -> [S, S]
  std::vector<RowMatrix> self_attention;       // [layer * heads + head] -> [T, T]
  std::vector<RowMatrix> cross_attention;      // [layer * heads + head] -> [T, S]
  std::shared_ptr<ForwardProbe> probe;         // filled when forward() is asked to probe
};
// `target` starts with <s> (the decoder's input, shifted right); `causal` adds the causal mask; `probe`
// records every intermediate (ForwardResult::probe).
ForwardResult forward(const Model& model, const std::vector<int>& source, const std::vector<int>& target,
                      bool causal, bool probe = false);

// Teacher forcing is how the model is trained: the loss of a target sequence given its logits
// (forward(): row i predicts target[i + 1]), as torch.nn.CrossEntropyLoss computes it over the positions
// after <s>. `nll[i]` is -log p(target[i + 1]) (natural log); `cross_entropy` their mean; `smoothed` the
// mean with label smoothing eps, (1 - eps) nll + eps mean_v(-log p_v): what tools/train_g2p.py optimises
// (eps = 0.1). Computed in double from the float32 logits.
struct SequenceLoss {
  std::vector<double> nll;
  double cross_entropy = 0.0, smoothed = 0.0;
};
SequenceLoss sequence_loss(const RowMatrix& logits, const std::vector<int>& target, double label_smoothing);

// ---------------------------------------------------------------------------------------------------
// Memory. A model file is small next to what running it can take: the encoder keeps layers x heads
// attention matrices of [S, S], every decoder state a KV cache of layers x positions x 2 d_model, and a
// beam 2 x width states. So every entry point computes what a request needs before it allocates, and
// refuses one past this budget with an Error that gives the sizes (rather than std::bad_alloc, or a
// browser tab out of memory).
namespace limits {
constexpr int64_t kMaxRunBytes = int64_t{1} << 30;  // 1 GiB
}  // namespace limits

// Bytes of what encode() builds for `source_length` tokens (the attention matrices, the memory, the
// decoder's cross-attention keys and values) plus its working set; 0 for decoder-only models.
int64_t encoder_bytes(const ModelConfig& config, int source_length);
// Bytes of one DecoderState of `capacity` positions over `source_length` source tokens.
int64_t decoder_state_bytes(const ModelConfig& config, int capacity, int source_length);
// Refuses (an Error naming each part's size) a run that would hold more than limits::kMaxRunBytes at
// once: the encoder output for `source_length` tokens, one decoder state of `capacity` positions
// (2 x beam_width for a beam search; beam_width 0 otherwise) and `buffers` bytes of the caller's own.
void check_run_memory(const ModelConfig& config, int source_length, int capacity, int beam_width, int64_t buffers);

}  // namespace stepwise
