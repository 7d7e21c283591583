//! One error type for the runtime. Every variant has a stable code that becomes the JS `Error.name`.
use crate::ports::{HttpError, StoreError};

/// Stable error names seen by JavaScript callers. Never rename one: games match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidConfig,
    InvalidRequest,
    StorageError,
    NetworkError,
    Disposed,
    ModelIntegrityError,
    ModelLoadError,
    ModelNotReady,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "InvalidConfig",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::StorageError => "StorageError",
            ErrorCode::NetworkError => "NetworkError",
            ErrorCode::Disposed => "Disposed",
            ErrorCode::ModelIntegrityError => "ModelIntegrityError",
            ErrorCode::ModelLoadError => "ModelLoadError",
            ErrorCode::ModelNotReady => "ModelNotReady",
        }
    }
}

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
    /// tract could not load or run the model.
    #[error("could not load the model: {0}")]
    ModelLoad(String),
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
