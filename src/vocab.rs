//! The public vocabulary: every word the runtime reports to a game (sources, tiers, routes, states, reasons) is
//! a variant of one of these enums, with one spelling shared by Rust, the JS values and the `.d.ts` (a test
//! holds the `.d.ts` unions to [`UNIONS`]). A change here is a change of the API: note it in CHANGELOG.md.

/// Defines a vocabulary enum: serde spells each variant as given, `ALL` lists them, `as_str` spells one.
macro_rules! vocabulary {
    ($(
        $(#[$meta:meta])*
        $ts:literal pub enum $name:ident { $($(#[$vmeta:meta])* $var:ident = $s:literal),+ $(,)? }
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
            pub enum $name { $($(#[$vmeta])* #[serde(rename = $s)] $var),+ }

            impl $name {
                pub const ALL: &'static [$name] = &[$($name::$var),+];

                pub const fn as_str(self) -> &'static str {
                    match self { $($name::$var => $s),+ }
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )+

        /// Each enum's TypeScript name and spellings, as the `.d.ts` must declare them.
        pub const UNIONS: &[(&str, &[&str])] = &[$(($ts, &[$($s),+])),+];
    };
}

vocabulary! {
    /// When the local model loads (`config.model.strategy`).
    "ModelStrategy" pub enum Strategy {
        /// Chosen from device signals at start (see `lifecycle::resolve`).
        Auto = "auto",
        /// Shipped with the game: loaded during `create`, which resolves once the model is ready.
        Bundled = "bundled",
        /// Downloaded in the background right after `create`; calls that need it wait for it.
        FirstLaunch = "firstLaunch",
        /// Downloaded on the first call that needs it (or `loadModel()`).
        OnDemand = "onDemand",
        /// Never downloaded unless the game calls `loadModel()`; local analysis is unavailable.
        CloudOnly = "cloudOnly",
    }

    /// The kind of line a game asks `generate()` for; it picks the prompt wording and the fallback templates.
    "ResponseType" pub enum ResponseType {
        Dialogue = "dialogue",
        Greeting = "greeting",
        Farewell = "farewell",
        Question = "question",
        Reaction = "reaction",
        Bark = "bark",
        Narration = "narration",
    }

    /// Who said a turn of `context.history` (the conversation so far, oldest first).
    "Speaker" pub enum Speaker { Player = "player", Npc = "npc" }

    /// A tier of the response cache.
    "CacheTier" pub enum Tier { Memory = "memory", LocalStorage = "localStorage", IndexedDb = "indexedDb" }

    /// Where a `generate()` line came from: a cache tier, the local model, a cloud model (named in `model`), or
    /// a fallback template.
    "Source" pub enum Source {
        Memory = "memory",
        LocalStorage = "localStorage",
        IndexedDb = "indexedDb",
        Local = "local",
        Cloud = "cloud",
        Template = "template",
    }

    /// The routing-matrix row that picked the model for a request.
    "Route" pub enum Route {
        Critical = "critical",
        High = "high",
        MediumHigh = "mediumHigh",
        Authenticity = "authenticity",
        Basic = "basic",
        Default = "default",
    }

    /// A step of the `generate()` chain that did not produce the line.
    "FallbackStep" pub enum FallbackStep { Cache = "cache", Local = "local", Cloud = "cloud" }

    /// Why a step was passed over.
    "FallbackReason" pub enum FallbackReason {
        /// The step's deadline fired (a cloud request in flight is aborted).
        Timeout = "timeout",
        /// No local model or response bank.
        Absent = "absent",
        /// The local responder failed.
        Error = "error",
        /// The line failed quality validation.
        Quality = "quality",
        /// No cloud provider is configured for the model.
        NotConfigured = "notConfigured",
        LowImportance = "lowImportance",
        LowBattery = "lowBattery",
        BreakerOpen = "breakerOpen",
        OverBudget = "overBudget",
        /// The whole call's deadline left no time for the step.
        Deadline = "deadline",
        /// The provider refused the credentials or the endpoint (401, 403, 404).
        Config = "config",
        RateLimited = "rateLimited",
        Server = "server",
        Client = "client",
        Network = "network",
        Malformed = "malformed",
        Aborted = "aborted",
        /// The player's wait (`waitMs`) ran out; the cloud call goes on in the background to fill the cache.
        WaitMs = "waitMs",
        /// A built-in flag turned the step off (`useLocalAi`, `cloudFallback`).
        Disabled = "disabled",
    }

    /// A circuit breaker's state.
    "BreakerState" pub enum BreakerState { Closed = "closed", Open = "open", HalfOpen = "halfOpen" }

    /// Whether `generate()` has a local step.
    "LocalState" pub enum LocalState { Absent = "absent", Ready = "ready" }

    /// The local model's load state.
    "ModelState" pub enum ModelState { Idle = "idle", Loading = "loading", Ready = "ready", Failed = "failed" }

    /// Where the loaded model came from.
    "ModelOrigin" pub enum ModelOrigin { Network = "network", IndexedDb = "indexedDb" }

    /// The response bank's load state; `none` when the manifest names no bank.
    "BankState" pub enum BankState {
        None = "none",
        Idle = "idle",
        Loading = "loading",
        Ready = "ready",
        Failed = "failed",
    }

    /// Where the model's update stands (`modelStatus().update`). Whatever it says, the model that served before
    /// serves until `updated`.
    "UpdateState" pub enum UpdateState {
        /// Not asked yet (a model fresh from the network has nothing to ask at start).
        None = "none",
        /// The server's manifest is being fetched.
        Checking = "checking",
        /// The server has nothing newer.
        Current = "current",
        /// The server's manifest is not an update (`updateRejection` says why).
        Refused = "refused",
        /// An update is available, and the auto-update gate holds it (`updateDeferral`); `checkForModelUpdate()`
        /// fetches it anyway.
        Deferred = "deferred",
        Downloading = "downloading",
        /// Built and compared with the running model (the shadow check).
        Verifying = "verifying",
        /// The new version (`updateVersion`) serves; the one before is kept as the backup.
        Updated = "updated",
        /// The update failed (`updateFailure`, `updateError`); the running model is unchanged.
        Failed = "failed",
    }

    /// Why the server's manifest is not an update.
    "UpdateRejection" pub enum UpdateRejection {
        /// Its version is lower than the running one (a downgrade).
        Older = "older",
        /// Its version is the running one, with another manifest.
        SameVersion = "sameVersion",
        /// Its channel is not one of `config.model.update.channels`.
        OtherChannel = "otherChannel",
        /// It needs a newer runtime (`minRuntime`): ship a new game build.
        RuntimeTooOld = "runtimeTooOld",
        /// This version was rolled back on this device; it is not installed again.
        RolledBack = "rolledBack",
        /// Its manifest's `rollout` stages it to a share of players, and this player is not among them yet.
        OutsideRollout = "outsideRollout",
    }

    /// Why the auto-update gate holds an available update.
    "UpdateDeferral" pub enum UpdateDeferral {
        /// `config.model.update.auto` is off.
        Disabled = "disabled",
        /// Save-Data is on, or the connection looks slow or metered (2G/3G).
        Metered = "metered",
        /// The battery is below `config.model.update.minBattery` and not charging.
        LowBattery = "lowBattery",
    }

    /// Why an update failed (`modelUpdateFailed`'s `reason`).
    "UpdateFailure" pub enum UpdateFailure {
        /// The manifest could not be fetched, or is malformed.
        Manifest = "manifest",
        /// The manifest is not an update (`rejection` says why).
        Refused = "refused",
        /// A file could not be fetched (network, stalled server), after resuming what could be.
        Download = "download",
        /// A file is not the one the manifest names (size or SHA-256).
        Integrity = "integrity",
        /// The new model does not build, or its response bank or validation set does not parse.
        Build = "build",
        /// The new model failed the shadow check (`modelShadowResult` has the figures).
        Shadow = "shadow",
        /// IndexedDB refused a write (full); what was written is removed.
        Storage = "storage",
    }

    /// Why the model went back to the backup version.
    "RollbackReason" pub enum RollbackReason {
        /// `rollbackModel()`.
        Command = "command",
        /// The current version's kept files were missing or did not build at start.
        Load = "load",
    }

    /// How the shadow check judged an output.
    "ShadowMeasure" pub enum ShadowMeasure {
        /// Its mean absolute difference from the running model's.
        Distance = "distance",
        /// Declared changed by the release: its error on the release's labelled examples, against the running
        /// model's.
        Labelled = "labelled",
    }

    /// The `type` of a model lifecycle event (`takeModelEvents()`).
    "ModelEventType" pub enum ModelEventType {
        ModelUpdateAvailable = "modelUpdateAvailable",
        ModelDownloadProgress = "modelDownloadProgress",
        ModelShadowResult = "modelShadowResult",
        ModelUpdated = "modelUpdated",
        ModelRollback = "modelRollback",
        ModelUpdateFailed = "modelUpdateFailed",
    }

    /// The `name` of every `Error` the runtime throws or rejects with. Games match on these: never rename one.
    "UnwrittenErrorName" pub enum ErrorCode {
        InvalidConfig = "InvalidConfig",
        InvalidRequest = "InvalidRequest",
        StorageError = "StorageError",
        NetworkError = "NetworkError",
        Disposed = "Disposed",
        ModelIntegrityError = "ModelIntegrityError",
        ModelLoadError = "ModelLoadError",
        ModelNotReady = "ModelNotReady",
        /// The model is loaded but could not run on an input.
        InferenceError = "InferenceError",
        /// The WebAssembly instance trapped (a panic, out of memory): this runtime is gone, every pending and later
        /// call on it rejects with this name; `UnwrittenAI.create()` starts a fresh one on a new instance.
        RuntimeCrashed = "RuntimeCrashed",
    }

    /// The `type` of a worker-mode event: the proxy started a fresh worker after the old one crashed.
    "WorkerEventType" pub enum WorkerEventType { RuntimeRestarted = "runtimeRestarted" }

    /// Where a flag's value came from: the remote document, `config.flags.defaults`, or the built-in default.
    "FlagSource" pub enum FlagSource { Remote = "remote", Config = "config", Default = "default" }

    /// What a refresh of the flag document did.
    "FlagsRefresh" pub enum FlagsRefresh {
        /// A new document was fetched and is in use.
        Updated = "updated",
        /// The server answered 304: the kept copy is current.
        NotModified = "notModified",
        /// The kept copy is younger than `flags.ttlMs`: nothing was fetched.
        Fresh = "fresh",
        /// The fetch failed (network, timeout, an error status, a refused document): the last good copy stays.
        Failed = "failed",
        /// No `flags.url` is configured.
        Off = "off",
    }

    /// Why `variant()` gave a player the variant it did.
    "VariantReason" pub enum VariantReason {
        /// Hashed now, and kept from now on.
        Assigned = "assigned",
        /// Kept from an earlier assignment (a later change of weights does not move the player).
        Sticky = "sticky",
        /// The player's hash falls outside the experiment's coverage: the control, no exposure.
        OutsideCoverage = "outsideCoverage",
        /// The experiment is switched off (`active: false`): the control, no exposure.
        Inactive = "inactive",
    }

    /// A figure the performance monitor watches against the design's target and alert line (docs/design.md §9).
    "MonitorMetric" pub enum Metric {
        /// Mean time of local inference (`analyze()` and local `generate()` lines) in the window, ms.
        LocalLatency = "localLatency",
        /// Mean time of cloud lines in the window, ms.
        CloudLatency = "cloudLatency",
        /// Cache lookups that hit, in the window.
        CacheHitRate = "cacheHitRate",
        /// Battery charge used per 30 minutes while the runtime works (0.01 is 1 %).
        BatteryDrain = "batteryDrain",
        /// Lines answered on the device (cache or local model), in the window.
        LocalShare = "localShare",
        /// Cloud spend today, USD.
        DailyCost = "dailyCost",
        /// Failed attempts over all attempts, in the window.
        ErrorRate = "errorRate",
    }

    /// A monitor alert event: a figure crossed its alert line, or came back within its target.
    "AlertType" pub enum AlertKind { Raised = "alert", Cleared = "alertCleared" }

    /// What the monitor times: a `generate()` line by its source (`cloud` merges every cloud model), or
    /// `analyze()`.
    "LatencySource" pub enum LatencySource {
        Memory = "memory",
        LocalStorage = "localStorage",
        IndexedDb = "indexedDb",
        Local = "local",
        Cloud = "cloud",
        Template = "template",
        Analyze = "analyze",
        /// Lines pre-generated while the player was idle (not the player's lines).
        Pregen = "pregen",
    }

    /// The `type` of an event a game passes to `observe()` (pre-generation, `src/pregen/event.rs`).
    "ObserveType" pub enum ObserveType {
        /// Where the player is.
        Position = "position",
        /// The characters near the player, with their distances.
        CharactersNearby = "charactersNearby",
        /// The player talked with a character about a topic.
        Conversation = "conversation",
        /// The player entered a scene.
        Scene = "scene",
        /// The game clock's hour.
        Clock = "clock",
        /// A critical moment began or ended (pre-generation waits for its end).
        CriticalMoment = "criticalMoment",
        /// The player touched an input (restarts the idle timer).
        Input = "input",
        /// Which player is playing (the `playerId` of predicted requests).
        Player = "player",
        /// The lines the game offers the player with a character (a dialogue menu, a quest's next step).
        DialogueOptions = "dialogueOptions",
    }

    /// A condition the pre-generation loop checks before it works (docs/design.md §7).
    "PregenGate" pub enum PregenGate {
        /// `pregen.enabled`.
        Enabled = "enabled",
        /// The page is visible.
        Visible = "visible",
        /// No player input for `gates.idleMs`.
        Idle = "idle",
        /// No critical moment is on.
        Critical = "critical",
        /// The battery is not too low.
        Battery = "battery",
        /// An unmetered connection, or pre-generation budget left.
        Network = "network",
    }

    /// What a gate decided: let the work run, let a share of it run (a low battery), or stop it.
    "GateDecision" pub enum GateDecision { Pass = "pass", Throttle = "throttle", Block = "block" }

    /// Why a line was predicted (docs/design.md §7).
    "CandidateSource" pub enum CandidateSource {
        /// A character near the player: a greeting.
        Proximity = "proximity",
        /// Morning, with a friend the player meets then (a coffee routine).
        Morning = "morning",
        /// Lunch time, with a friend.
        Lunch = "lunch",
        /// Evening, with a close friend.
        Evening = "evening",
        /// What the player usually talks about with a character near them.
        History = "history",
        /// The next line of the conversation in progress, from how the player's conversations go on.
        Sequence = "sequence",
        /// What the player talked about on this weekday around this hour in earlier weeks.
        Weekly = "weekly",
        /// A line the game offers with a character near the player (`dialogueOptions`), weighed by how often
        /// the player took such an offer.
        Options = "options",
    }

    /// Why an entry left a cache tier.
    "EvictionReason" pub enum EvictionReason {
        /// The tier held its maximum number of entries.
        Capacity = "capacity",
        /// The tier's byte budget was full.
        Bytes = "bytes",
        /// The entry's TTL had passed.
        Expired = "expired",
        /// The browser's storage quota was hit.
        Quota = "quota",
        /// A namespace invalidation, `clearCache()`, or a record of an older schema.
        Invalidated = "invalidated",
        /// The record did not decode.
        Corrupt = "corrupt",
    }
}

// Written out: the macro derives no `Default`, since most of the vocabulary has none.
#[allow(clippy::derivable_impls)]
impl Default for Strategy {
    fn default() -> Self {
        Strategy::Auto
    }
}

#[allow(clippy::derivable_impls)]
impl Default for ResponseType {
    fn default() -> Self {
        ResponseType::Dialogue
    }
}

impl From<Tier> for Source {
    fn from(tier: Tier) -> Source {
        match tier {
            Tier::Memory => Source::Memory,
            Tier::LocalStorage => Source::LocalStorage,
            Tier::IndexedDb => Source::IndexedDb,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_spells_each_variant_as_as_str_does() {
        for t in Tier::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for s in Source::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(serde_json::from_value::<Source>(s.as_str().into()).unwrap(), *s);
        }
        assert_eq!(Source::from(Tier::IndexedDb).as_str(), "indexedDb");
    }

    /// The string literals of `export type {name} = "a" | "b" ...;` in the shipped declarations.
    fn declared(dts: &str, name: &str) -> Option<Vec<String>> {
        let start = dts.find(&format!("export type {name} ="))?;
        let body = &dts[start..];
        let body = &body[..body.find(';')?];
        Some(body.split('"').skip(1).step_by(2).map(str::to_string).collect())
    }

    #[test]
    fn the_typescript_declarations_spell_every_word_as_rust_does() {
        let dts = include_str!("js/api.d.ts");
        for (name, words) in UNIONS {
            let declared = declared(dts, name).unwrap_or_else(|| panic!("api.d.ts declares no type {name}"));
            assert_eq!(declared, *words, "api.d.ts's {name} and src/vocab.rs disagree");
        }
        // And the test can fail: a union that differs is seen.
        assert_ne!(declared("export type X = \"a\" | \"b\";", "X").unwrap(), ["a"]);
    }

    #[test]
    fn every_union_is_named_once_with_distinct_spellings() {
        let mut names: Vec<&str> = UNIONS.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), UNIONS.len());
        for (name, words) in UNIONS {
            let mut w = words.to_vec();
            w.sort();
            w.dedup();
            assert_eq!(w.len(), words.len(), "{name}");
        }
    }
}
