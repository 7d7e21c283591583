//! The runtime's error, as a game sees it: every variant has a stable code that becomes the JS `Error.name`.
//! Modules keep errors of their own (`BankError`, `VocabError`, `StoreError`, ...) and convert into this one
//! where they meet the runtime; the JS facade converts this one into a JS `Error` once.
use crate::ports::{HttpError, StoreError};

pub use crate::vocab::ErrorCode;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A config option is unknown or has a bad value. `field` is its dotted camelCase path.
    #[error("config field `{field}`: {message}")]
    InvalidConfig { field: String, message: String },
    /// A call's arguments are malformed. `field` names the argument or its member.
    #[error("request field `{field}`: {message}")]
    InvalidRequest { field: String, message: String },
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
    #[error("network: {0}")]
    Network(#[from] HttpError),
    #[error("this UnwrittenAI instance was disposed; create a new one with UnwrittenAI.create(config)")]
    Disposed,
    /// The model bytes are not the ones the manifest names (size or SHA-256): a corrupt or tampered download.
    #[error("model integrity check failed: {0}. Serve the model file that matches models/manifest.json")]
    ModelIntegrity(String),
    /// The model files could not be fetched or tract could not build the model from them.
    #[error("could not load the model: {0}")]
    ModelLoad(String),
    /// The model is loaded but could not run on an input.
    #[error("the model could not analyse the input: {0}")]
    Inference(String),
    /// A model call before a model was loaded (or after loading failed).
    #[error("no model is loaded: {0}")]
    ModelNotReady(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            Error::Storage(_) => ErrorCode::StorageError,
            Error::Network(_) => ErrorCode::NetworkError,
            Error::Disposed => ErrorCode::Disposed,
            Error::ModelIntegrity(_) => ErrorCode::ModelIntegrityError,
            Error::ModelLoad(_) => ErrorCode::ModelLoadError,
            Error::Inference(_) => ErrorCode::InferenceError,
            Error::ModelNotReady(_) => ErrorCode::ModelNotReady,
        }
    }

    pub fn invalid_config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig { field: field.into(), message: message.into() }
    }

    pub fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest { field: field.into(), message: message.into() }
    }
}

/// `InvalidRequest` naming `field` when `text` is longer than `max` characters.
pub fn text_at_most(field: &str, text: &str, max: usize) -> Result<(), Error> {
    // Bytes first: a short text in bytes is short in characters, and counting a huge one would cost.
    if text.len() > max && text.chars().count() > max {
        return Err(Error::invalid_request(field, format!("longer than {max} characters; shorten it")));
    }
    Ok(())
}

/// `importance` as given when it is in 0..1, else `InvalidRequest` naming `field` (NaN included).
pub fn importance_in_range(field: &str, importance: f64) -> Result<f64, Error> {
    if importance.is_finite() && (0.0..=1.0).contains(&importance) {
        return Ok(importance);
    }
    Err(Error::invalid_request(field, format!("got {importance}; use 0..1 (0.5 is ordinary)")))
}
