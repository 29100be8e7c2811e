//! The normalized resource model. Evaluation and emitters see only this; nothing here knows a
//! file format.

mod attribution;
mod criticality;
mod resource;
pub mod value;

pub use attribution::{Attribution, ChangeEvent, Principal};
pub use criticality::Criticality;

pub use resource::{
    Action, Actions, Body, Change, ChangeKind, CloudContext, Declaration, DocError, Documents,
    InlineIgnore, ItemStatus, LazyDocument, Mode, Origin, Projection, Reference, Relationship,
    Resource, ResourceSet, SourceKind,
};
