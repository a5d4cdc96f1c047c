// The model's blueprint: the JSON stored in a model file's safetensors `__metadata__["stepwise"]`,
// parsed and validated. Field meanings are documented once, in weights/README.md; the PyTorch module
// that produces them is tools/stepwise_py/model.py.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace stepwise {

enum class Architecture { EncoderDecoder, DecoderOnly };
enum class Activation { Relu, Gelu };
enum class Positional { Sinusoidal, Learned };

// Maps text to token ids and back. "chars" splits text into Unicode code points (the G2P source: letters),
// "space" into whitespace-separated symbols (the G2P target: ARPAbet phonemes).
class Vocabulary {
 public:
  enum class Split { Chars, Space };

  Vocabulary() = default;
  Vocabulary(std::vector<std::string> tokens, Split split, bool lowercase);

  int size() const { return static_cast<int>(tokens_.size()); }
  const std::string& token(int id) const;  // throws for an id outside [0, size)
  int id(const std::string& token) const;  // -1 when absent
  Split split() const { return split_; }
  bool lowercase() const { return lowercase_; }
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Text -> ids. Rejects invalid UTF-8, unknown symbols and the special tokens (`specials`), naming the
  // offending symbol and its position. `what` names the input in messages ("input word").
  std::vector<int> encode(const std::string& text, const std::vector<int>& specials,
                          const std::string& what = "input") const;
  // Ids -> text, joined with "" (chars) or " " (space). `skip` ids are left out.
  std::string decode(const std::vector<int>& ids, const std::vector<int>& skip = {}) const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> index_;
  Split split_ = Split::Chars;
  bool lowercase_ = false;
};

struct ModelConfig {
  std::string name;
  Architecture architecture = Architecture::EncoderDecoder;
  int d_model = 0;
  int n_heads = 0;
  int n_encoder_layers = 0;  // 0 for decoder-only models
  int n_decoder_layers = 0;
  int d_ff = 0;
  Activation activation = Activation::Relu;
  bool norm_first = false;     // false: post-norm (x = norm(x + f(x))); true: pre-norm (x = x + f(norm(x)))
  float layer_norm_eps = 1e-5f;
  Positional positional = Positional::Sinusoidal;
  bool scale_embedding = true;  // token embeddings times sqrt(d_model)
  bool tie_output = false;      // generator.weight is tgt_embed.weight
  int max_source_len = 0;       // 0 for decoder-only models
  int max_target_len = 0;       // decoder positions, <s> included
  Vocabulary source_vocab;      // empty for decoder-only models
  Vocabulary target_vocab;
  int source_pad = -1;
  int target_pad = -1, bos = -1, eos = -1;
  int sep = -1;                 // decoder-only G2P: the token between the letters and the phonemes; -1 if none

  bool has_encoder() const { return architecture == Architecture::EncoderDecoder; }
  int head_dim() const { return d_model / n_heads; }

  // Parses and validates; every error names `origin` (the file) and the field, expected vs actual.
  static ModelConfig from_json(const std::string& json_text, const std::string& origin);
};

// The limits past which a configuration is rejected as absurd (a corrupt or hostile file, not a model).
namespace limits {
constexpr int kMaxDModel = 4096;
constexpr int kMaxHeads = 256;
constexpr int kMaxLayers = 64;
constexpr int kMaxDff = 65536;
constexpr int kMaxVocab = 1 << 20;
constexpr int kMaxSequence = 8192;
constexpr long long kMaxParameters = 2'000'000'000LL / 4;  // 2 GB of float32 weights
}  // namespace limits

}  // namespace stepwise
