#include "config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "error.h"
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
    if (!v.is_number_integer()) error(field, "must be an integer, got " + std::string(v.type_name()) + " " + v.dump());
    long long x = v.get<long long>();
    if (x < lo || x > hi)
      error(field, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
    return static_cast<int>(x);
  }

  double number(const std::string& field, double lo, double hi) const {
    const json& v = get(field);
    if (!v.is_number()) error(field, "must be a number, got " + std::string(v.type_name()) + " " + v.dump());
    double x = v.get<double>();
    if (!(x > lo && x < hi)) {
      const std::string range = concat("must be in (", lo, ", ", hi, "), got ", v.dump());
      error(field, range);
    }
    return x;
  }

  bool boolean(const std::string& field) const {
    const json& v = get(field);
    if (!v.is_boolean()) error(field, "must be true or false, got " + v.dump());
    return v.get<bool>();
  }

  std::string string(const std::string& field) const {
    const json& v = get(field);
    if (!v.is_string()) error(field, "must be a string, got " + std::string(v.type_name()) + " " + v.dump());
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
    error(field, "must be one of " + allowed + ", got \"" + value + "\"");
  }

 private:
  const json& object_;
  std::string origin_, prefix_;
};

struct ParsedVocab {
  Vocabulary vocab;
  int pad = -1, bos = -1, eos = -1;
};

ParsedVocab parse_vocab(const json& root, const std::string& key, const std::string& origin, bool needs_bos_eos) {
  Fields top(root, origin);
  const json& v = top.get(key);
  if (!v.is_object()) top.error(key, "must be an object, got " + std::string(v.type_name()));
  Fields f(v, origin, key + ".");
  const json& list = f.get("tokens");
  if (!list.is_array() || list.empty() || list.size() > static_cast<size_t>(limits::kMaxVocab))
    f.error("tokens", "must be a non-empty array of at most " + std::to_string(limits::kMaxVocab) + " strings");
  std::vector<std::string> tokens;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || list[i].get<std::string>().empty())
      f.error("tokens", "entry " + std::to_string(i) + " must be a non-empty string, got " + list[i].dump());
    tokens.push_back(list[i].get<std::string>());
  }
  auto split = f.choice<Vocabulary::Split>("split", {{"chars", Vocabulary::Split::Chars}, {"space", Vocabulary::Split::Space}});
  ParsedVocab out{Vocabulary(tokens, split, f.boolean("lowercase"))};
  for (size_t i = 0; i < tokens.size(); ++i)
    if (out.vocab.id(tokens[i]) != static_cast<int>(i))  // the index keeps a token's first entry
      f.error("tokens", "lists \"" + tokens[i] + "\" twice (entries " + std::to_string(out.vocab.id(tokens[i])) +
                            " and " + std::to_string(i) + ")");
  auto special = [&](const std::string& field) {
    std::string name = f.string(field);
    int id = out.vocab.id(name);
    if (id < 0) f.error(field, "names \"" + name + "\", which is not in " + key + ".tokens");
    return id;
  };
  out.pad = special("pad");
  if (needs_bos_eos) {
    out.bos = special("bos");
    out.eos = special("eos");
    if (out.bos == out.eos || out.bos == out.pad || out.eos == out.pad)
      f.error("bos", "pad, bos and eos must be three different tokens");
  }
  return out;
}

}  // namespace

ModelConfig ModelConfig::from_json(const std::string& json_text, const std::string& origin) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    fail(origin, ": the model configuration is not valid JSON: ", e.what());
  }
  if (!root.is_object()) fail(origin, ": the model configuration must be a JSON object, got ", root.type_name());
  Fields f(root, origin);
  if (f.string("format") != "stepwise-transformer")
    f.error("format", "must be \"stepwise-transformer\", got \"" + f.string("format") + "\"");
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
  c.layer_norm_eps = static_cast<float>(f.number("layer_norm_eps", 0.0, 1.0));
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
  if (c.has_encoder()) {
    c.n_encoder_layers = f.integer("n_encoder_layers", 1, limits::kMaxLayers);
    c.max_source_len = f.integer("max_source_len", 1, limits::kMaxSequence);
    auto source = parse_vocab(root, "source_vocab", origin, false);
    c.source_vocab = std::move(source.vocab);
    c.source_pad = source.pad;
  } else {
    int n = f.integer("n_encoder_layers", 0, 0);
    c.n_encoder_layers = n;
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
