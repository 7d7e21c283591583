//! Tokenizes texts with the shipped vocabulary, for tools that feed other engines the exact same ids
//! (bench/model compares onnxruntime-web with this runtime on identical inputs).
//! Usage: cargo run --example encode -- <texts.json> <out.json>   (texts.json: ["...", ...])
use std::error::Error;

use unwritten_ai::model::{Manifest, Tokenizer};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = match (args.get(1), args.get(2)) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err("usage: encode <texts.json> <out.json>".into()),
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let manifest = Manifest::parse(&std::fs::read_to_string(format!("{dir}/manifest.json"))?)?;
    let vocab = std::fs::read_to_string(format!("{dir}/{}", manifest.vocab.file))?;
    let tokenizer = Tokenizer::from_vocab(&vocab, manifest.max_tokens)?;
    let texts: Vec<String> = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let ids: Vec<Vec<i64>> = texts.iter().map(|t| tokenizer.encode(t).ids).collect();
    std::fs::write(output, serde_json::to_string(&ids)?)?;
    eprintln!("encoded {} texts to {output}", ids.len());
    Ok(())
}
