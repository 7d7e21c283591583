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
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "InvalidConfig",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::StorageError => "StorageError",
            ErrorCode::NetworkError => "NetworkError",
            ErrorCode::Disposed => "Disposed",
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
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            Error::Storage(_) => ErrorCode::StorageError,
            Error::Network(_) => ErrorCode::NetworkError,
            Error::Disposed => ErrorCode::Disposed,
        }
    }

    pub fn invalid_config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig { field: field.into(), message: message.into() }
    }

    pub fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest { field: field.into(), message: message.into() }
    }
}
