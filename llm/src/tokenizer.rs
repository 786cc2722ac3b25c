//! The model's own tokenizer and chat template, built from the GGUF metadata.
//!
//! `tokenizer.ggml.model = gpt2` is byte-level BPE: the vocabulary and merges come from the file and
//! the `tokenizers` crate applies them. The pre-tokenizer follows `tokenizer.ggml.pre`: `smollm`
//! splits every digit alone before GPT-2's byte-level split. Control tokens (type 3) match whole.

use crate::{
    error::{LlmError, Result},
    gguf::Gguf,
};
use serde::{Deserialize, Serialize};
use tokenizers::{
    AddedToken, Tokenizer,
    decoders::byte_level::ByteLevel as ByteLevelDecoder,
    models::bpe::{BPE, Vocab},
    pre_tokenizers::{
        PreTokenizerWrapper, byte_level::ByteLevel, digits::Digits, sequence::Sequence,
    },
};

/// GGUF token type of a control token (`<|im_start|>`, `<|im_end|>`, …).
const CONTROL: i64 = 3;

/// What the tokenizer is made of, as the GGUF metadata gives it (kept in the integer model's file,
/// so running a model never needs the GGUF again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenizerSpec {
    /// Every token's string, by id.
    pub tokens: Vec<String>,
    /// Ids of the control tokens (matched whole, left out of decoded text).
    pub control: Vec<u32>,
    /// BPE merges in priority order.
    pub merges: Vec<(String, String)>,
    /// Whether digits are split one by one before the byte-level split (`smollm`).
    pub split_digits: bool,
    /// The end-of-text token.
    pub eos: u32,
    /// The default system message of the ChatML template, if the model has one.
    pub system: Option<String>,
}

impl TokenizerSpec {
    /// Reads `tokenizer.ggml.*` and `tokenizer.chat_template`.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let model = g.string("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(LlmError::Unsupported(format!(
                "tokenizer model {model:?}; supported: gpt2 (byte-level BPE)"
            )));
        }
        let pre = g
            .string("tokenizer.ggml.pre")
            .unwrap_or_else(|_| "default".into());
        let split_digits = match pre.as_str() {
            "smollm" => true,
            "default" | "gpt2" => false,
            other => {
                return Err(LlmError::Unsupported(format!(
                    "pre-tokenizer {other:?}; supported: smollm, gpt2, default"
                )));
            }
        };
        let tokens = g.strings("tokenizer.ggml.tokens")?;
        let types = g.integers("tokenizer.ggml.token_type")?;
        if types.len() != tokens.len() {
            return Err(LlmError::Format(format!(
                "{} tokens but {} token types",
                tokens.len(),
                types.len()
            )));
        }
        let merges = g
            .strings("tokenizer.ggml.merges")?
            .into_iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| LlmError::Format(format!("merge {m:?} is not two tokens")))
            })
            .collect::<Result<Vec<_>>>()?;
        let eos = u32::try_from(g.usize("tokenizer.ggml.eos_token_id")?)
            .ok()
            .filter(|&e| (e as usize) < tokens.len())
            .ok_or_else(|| LlmError::Format("eos token id outside the vocabulary".into()))?;
        let control = (0..tokens.len() as u32)
            .filter(|&i| types[i as usize] == CONTROL)
            .collect();
        let system = g
            .string("tokenizer.chat_template")
            .ok()
            .and_then(|t| chatml_system(&t));
        Ok(Self {
            tokens,
            control,
            merges,
            split_digits,
            eos,
            system,
        })
    }
}

/// Text ↔ token ids for one model, with its ChatML template.
pub struct ChatTokenizer {
    inner: Tokenizer,
    /// The end-of-text token id: generation stops when it is produced.
    pub eos: u32,
    system: Option<String>,
}

impl ChatTokenizer {
    /// Builds the byte-level BPE tokenizer of a spec.
    pub fn new(spec: &TokenizerSpec) -> Result<Self> {
        let vocab: Vocab = spec
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, spec.merges.clone())
            .build()
            .map_err(|e| LlmError::Tokenizer(e.to_string()))?;
        let mut inner = Tokenizer::new(bpe);
        let mut split = Vec::new();
        if spec.split_digits {
            split.push(PreTokenizerWrapper::Digits(Digits::new(true)));
        }
        split.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
            false, true, true,
        )));
        inner.with_pre_tokenizer(Some(Sequence::new(split)));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let control = spec
            .control
            .iter()
            .map(|&i| {
                spec.tokens
                    .get(i as usize)
                    .map(|t| AddedToken::from(t.clone(), true))
                    .ok_or_else(|| {
                        LlmError::Format(format!("control token {i} outside the vocabulary"))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        inner
            .add_special_tokens(control)
            .map_err(|e| LlmError::Tokenizer(e.to_string()))?;
        Ok(Self {
            inner,
            eos: spec.eos,
            system: spec.system.clone(),
        })
    }

    /// Token ids of a plain text (no template, no special tokens added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(|e| LlmError::Tokenizer(e.to_string()))?
            .get_ids()
            .to_vec())
    }

    /// The prompt as the model expects a user turn: the ChatML template with its default system
    /// message, ending with the assistant's header (the generation prompt).
    pub fn chat(&self, prompt: &str) -> Result<Vec<u32>> {
        let system = self
            .system
            .as_deref()
            .ok_or_else(|| LlmError::Unsupported("the model has no ChatML chat template".into()))?;
        self.encode(&format!(
            "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
        ))
    }

    /// The text of generated ids, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| LlmError::Tokenizer(e.to_string()))
    }
}

/// The default system message of a ChatML template (`<|im_start|>system\n… <|im_end|>` in a literal).
fn chatml_system(template: &str) -> Option<String> {
    let head = "<|im_start|>system\n";
    let start = template.find(head)? + head.len();
    let end = template[start..].find("<|im_end|>")?;
    Some(template[start..start + end].to_string())
}

#[cfg(test)]
mod tests {
    use super::chatml_system;

    #[test]
    fn the_system_message_comes_from_the_template() {
        let t = "{{ '<|im_start|>system\nYou are SmolLM<|im_end|>\n' }}{{'<|im_start|>' + role }}";
        assert_eq!(chatml_system(t).as_deref(), Some("You are SmolLM"));
        assert_eq!(chatml_system("{{ messages }}"), None);
    }
}
