#include "config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json_guard.h"
#include "utf8.h"

namespace stepwise {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------
// Vocabulary

Vocabulary::Vocabulary(std::vector<std::string> tokens, Split split, bool lowercase)
    : tokens_(std::move(tokens)), split_(split), lowercase_(lowercase) {
  for (int i = 0; i < size(); ++i) index_.emplace(tokens_[i], i);
}

const std::string& Vocabulary::token(int id) const {
  if (id < 0 || id >= size()) fail("token id ", id, " is outside the vocabulary [0, ", size(), ")");
  return tokens_[id];
}

int Vocabulary::id(const std::string& token) const {
  auto it = index_.find(token);
  return it == index_.end() ? -1 : it->second;
}

std::vector<int> Vocabulary::encode(const std::string& text, const std::vector<int>& specials,
                                    const std::string& what) const {
  std::vector<std::string> symbols = split_ == Split::Chars ? utf8::code_points(text, what)
                                                            : utf8::words(text, what);
  std::vector<int> ids;
  ids.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    std::string symbol = lowercase_ ? utf8::ascii_lower(symbols[i]) : symbols[i];
    int token = id(symbol);
    if (token < 0 || std::find(specials.begin(), specials.end(), token) != specials.end())
      fail(what, ": ", utf8::describe(symbols[i]), " at position ", i + 1,
           " is not in the model's vocabulary (", utf8::summarize(tokens_, specials), ")");
    ids.push_back(token);
  }
  return ids;
}

std::string Vocabulary::decode(const std::vector<int>& ids, const std::vector<int>& skip) const {
  std::string text;
  for (int id : ids) {
    if (std::find(skip.begin(), skip.end(), id) != skip.end()) continue;
    if (!text.empty() && split_ == Split::Space) text += ' ';
    text += token(id);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------
// ModelConfig::from_json

namespace {

// Levenshtein distance, for "did you mean" hints (keys are short; a long one is cut first).
size_t edit_distance(const std::string& a_full, const std::string& b) {
  const std::string a = a_full.substr(0, 64);
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(previous, current);
  }
  return previous[b.size()];
}

class Fields {
 public:
  Fields(const json& object, std::string origin, std::string prefix = "")
      : object_(object), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

  [[noreturn]] void error(const std::string& field, const std::string& message) const {
    fail(origin_, ": config field '", prefix_, field, "' ", message);
  }

  const json& get(const std::string& field) const {
    auto it = object_.find(field);
    if (it == object_.end()) error(field, "is missing");
    return *it;
  }

  bool has(const std::string& field) const { return object_.contains(field); }

  int integer(const std::string& field, int lo, int hi) const {
    const json& v = get(field);
    if (!v.is_number_integer()) error(field, "must be an integer, got " + std::string(v.type_name()) + " " + brief(v));
    long long x = v.get<long long>();
    if (x < lo || x > hi)
      error(field, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
    return static_cast<int>(x);
  }

  double number(const std::string& field, double lo, double hi) const {
    const json& v = get(field);
    if (!v.is_number()) error(field, "must be a number, got " + std::string(v.type_name()) + " " + brief(v));
    double x = v.get<double>();
    if (!(x > lo && x < hi)) {
      const std::string range = concat("must be in (", lo, ", ", hi, "), got ", brief(v));
      error(field, range);
    }
    return x;
  }

  bool boolean(const std::string& field) const {
    const json& v = get(field);
    if (!v.is_boolean()) error(field, "must be true or false, got " + brief(v));
    return v.get<bool>();
  }

  std::string string(const std::string& field) const {
    const json& v = get(field);
    if (!v.is_string()) error(field, "must be a string, got " + std::string(v.type_name()) + " " + brief(v));
    return v.get<std::string>();
  }

  template <typename E>
  E choice(const std::string& field, std::initializer_list<std::pair<const char*, E>> options) const {
    std::string value = string(field);
    std::string allowed;
    for (const auto& [name, e] : options) {
      if (value == name) return e;
      allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
    }
    error(field, "must be one of " + allowed + ", got " + brief(value));
  }

  // Every key must be one of `known`: a misspelt field ("norm_frist") would otherwise load as if absent.
  void only(std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : object_.items()) {
      const char* nearest = nullptr;
      size_t best = SIZE_MAX;
      for (const char* k : known) {
        if (key == k) {
          nearest = nullptr;
          best = 0;
          break;
        }
        const size_t d = edit_distance(key, k);
        if (d < best) best = d, nearest = k;
      }
      if (best == 0) continue;
      std::string hint = nearest && best <= std::max<size_t>(2, std::string(nearest).size() / 3)
                             ? concat(" (did you mean '", prefix_, nearest, "'?)")
                             : "";
      fail(origin_, ": unknown config field '", prefix_, utf8::printable(key), "'", hint);
    }
  }

 private:
  const json& object_;
  std::string origin_, prefix_;
};

struct ParsedVocab {
  Vocabulary vocab;
  int pad = -1, bos = -1, eos = -1, sep = -1;
};

ParsedVocab parse_vocab(const json& root, const std::string& key, const std::string& origin, bool needs_bos_eos) {
  Fields top(root, origin);
  const json& v = top.get(key);
  if (!v.is_object()) top.error(key, "must be an object, got " + std::string(v.type_name()));
  Fields f(v, origin, key + ".");
  if (needs_bos_eos)
    f.only({"tokens", "split", "lowercase", "pad", "bos", "eos", "sep"});
  else
    f.only({"tokens", "split", "lowercase", "pad"});
  const json& list = f.get("tokens");
  if (!list.is_array() || list.empty() || list.size() > static_cast<size_t>(limits::kMaxVocab))
    f.error("tokens", "must be a non-empty array of at most " + std::to_string(limits::kMaxVocab) + " strings");
  std::vector<std::string> tokens;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || list[i].get<std::string>().empty())
      f.error("tokens", "entry " + std::to_string(i) + " must be a non-empty string, got " + brief(list[i]));
    tokens.push_back(list[i].get<std::string>());
  }
  auto split = f.choice<Vocabulary::Split>("split", {{"chars", Vocabulary::Split::Chars}, {"space", Vocabulary::Split::Space}});
  ParsedVocab out{Vocabulary(tokens, split, f.boolean("lowercase"))};
  for (size_t i = 0; i < tokens.size(); ++i)
    if (out.vocab.id(tokens[i]) != static_cast<int>(i))  // the index keeps a token's first entry
      f.error("tokens", "lists " + brief(tokens[i]) + " twice (entries " + std::to_string(out.vocab.id(tokens[i])) +
                            " and " + std::to_string(i) + ")");
  auto special = [&](const std::string& field) {
    std::string name = f.string(field);
    int id = out.vocab.id(name);
    if (id < 0) f.error(field, "names " + brief(name) + ", which is not in " + key + ".tokens");
    return id;
  };
  out.pad = special("pad");
  if (needs_bos_eos) {
    out.bos = special("bos");
    out.eos = special("eos");
    if (out.bos == out.eos || out.bos == out.pad || out.eos == out.pad)
      f.error("bos", "pad, bos and eos must be three different tokens");
    if (f.has("sep")) {  // a decoder-only model's separator between the input and the output it writes
      out.sep = special("sep");
      if (out.sep == out.pad || out.sep == out.bos || out.sep == out.eos)
        f.error("sep", "must differ from pad, bos and eos");
    }
  }
  return out;
}

}  // namespace

ModelConfig ModelConfig::from_json(const std::string& json_text, const std::string& origin) {
  json root = parse_bounded(json_text.data(), json_text.data() + json_text.size(), origin + ": the model configuration");
  if (!root.is_object()) fail(origin, ": the model configuration must be a JSON object, got ", root.type_name());
  Fields f(root, origin);
  f.only({"format", "format_version", "name", "architecture", "d_model", "n_heads", "n_encoder_layers",
          "n_decoder_layers", "d_ff", "activation", "norm_first", "layer_norm_eps", "positional_encoding",
          "scale_embedding", "tie_output", "max_source_len", "max_target_len", "dropout", "source_vocab",
          "target_vocab"});
  if (f.string("format") != "stepwise-transformer")
    f.error("format", "must be \"stepwise-transformer\", got " + brief(f.string("format")));
  f.integer("format_version", 1, 1);

  ModelConfig c;
  c.name = f.has("name") ? f.string("name") : "unnamed";
  c.architecture = f.choice<Architecture>(
      "architecture", {{"encoder-decoder", Architecture::EncoderDecoder}, {"decoder-only", Architecture::DecoderOnly}});
  c.d_model = f.integer("d_model", 1, limits::kMaxDModel);
  c.n_heads = f.integer("n_heads", 1, limits::kMaxHeads);
  if (c.d_model % c.n_heads != 0)
    f.error("n_heads", "must divide d_model: d_model " + std::to_string(c.d_model) + " is not divisible by " +
                           std::to_string(c.n_heads) + " heads");
  c.n_decoder_layers = f.integer("n_decoder_layers", 1, limits::kMaxLayers);
  c.d_ff = f.integer("d_ff", 1, limits::kMaxDff);
  c.activation = f.choice<Activation>("activation", {{"relu", Activation::Relu}, {"gelu", Activation::Gelu}});
  c.norm_first = f.boolean("norm_first");
  const double eps = f.number("layer_norm_eps", 0.0, 1.0);
  c.layer_norm_eps = static_cast<float>(eps);
  if (!(c.layer_norm_eps >= std::numeric_limits<float>::min()))  // the engine computes in float32
    f.error("layer_norm_eps", concat("is ", eps, ", which is 0 or subnormal in float32 (at least ",
                                     std::numeric_limits<float>::min(), ")"));
  c.positional = f.choice<Positional>("positional_encoding",
                                      {{"sinusoidal", Positional::Sinusoidal}, {"learned", Positional::Learned}});
  if (c.positional == Positional::Sinusoidal && c.d_model % 2 != 0)
    f.error("d_model", "must be even for sinusoidal positions, got " + std::to_string(c.d_model));
  c.scale_embedding = f.boolean("scale_embedding");
  c.tie_output = f.boolean("tie_output");
  c.max_target_len = f.integer("max_target_len", 2, limits::kMaxSequence);

  auto target = parse_vocab(root, "target_vocab", origin, true);
  c.target_vocab = std::move(target.vocab);
  c.target_pad = target.pad;
  c.bos = target.bos;
  c.eos = target.eos;
  c.sep = target.sep;
  if (c.has_encoder()) {
    c.n_encoder_layers = f.integer("n_encoder_layers", 1, limits::kMaxLayers);
    c.max_source_len = f.integer("max_source_len", 1, limits::kMaxSequence);
    auto source = parse_vocab(root, "source_vocab", origin, false);
    c.source_vocab = std::move(source.vocab);
    c.source_pad = source.pad;
  } else {
    int n = f.integer("n_encoder_layers", 0, 0);
    c.n_encoder_layers = n;
    for (const char* field : {"source_vocab", "max_source_len"})
      if (f.has(field)) f.error(field, "is for encoder-decoder models; a decoder-only model reads its prompt in target_vocab");
  }

  // A rough parameter count guards against sizes that are each sane but together absurd.
  long long d = c.d_model, per_layer = 4 * d * d + 2 * d * c.d_ff;
  long long total = (c.n_encoder_layers + 2LL * c.n_decoder_layers) * per_layer +
                    d * (2LL * c.target_vocab.size() + c.source_vocab.size() + c.max_source_len + c.max_target_len);
  if (total > limits::kMaxParameters)
    fail(origin, ": the configuration describes about ", total, " parameters, more than the limit of ",
         limits::kMaxParameters);
  return c;
}

}  // namespace stepwise
