//! TypeScript types of the JS API (`api.d.ts`), shipped in the package's .d.ts. Written by hand beside the serde
//! types; `vocab::tests` holds its unions to the Rust enums, a browser test holds the values JS sees to both,
//! and `tests/consumer` type-checks and runs a game that uses every method.
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("api.d.ts");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "UnwrittenConfig")]
    pub type ConfigArg;
    #[wasm_bindgen(typescript_type = "UnwrittenMetrics")]
    pub type MetricsValue;
    #[wasm_bindgen(typescript_type = "CacheKeyParts")]
    pub type CacheKeyPartsArg;
    #[wasm_bindgen(typescript_type = "CacheHit | undefined")]
    pub type CacheHitValue;
    #[wasm_bindgen(typescript_type = "CacheEntry[]")]
    pub type CacheEntriesArg;
    #[wasm_bindgen(typescript_type = "CacheStats")]
    pub type CacheStatsValue;
    #[wasm_bindgen(typescript_type = "GenerateRequest")]
    pub type GenerateRequestArg;
    #[wasm_bindgen(typescript_type = "GenerateRequest")]
    pub type GenerateRequestValue;
    #[wasm_bindgen(typescript_type = "ObserveEvent")]
    pub type ObserveEventArg;
    #[wasm_bindgen(typescript_type = "Moment")]
    pub type MomentArg;
    #[wasm_bindgen(typescript_type = "GenerateResult")]
    pub type GenerateResultValue;
    #[wasm_bindgen(typescript_type = "UnwrittenEvent[]")]
    pub type EventsValue;
    #[wasm_bindgen(typescript_type = "Analysis")]
    pub type AnalysisValue;
    #[wasm_bindgen(typescript_type = "ModelStatus")]
    pub type ModelStatusValue;
}
