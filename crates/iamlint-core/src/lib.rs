//! The shared model of iamlint: source files and spans, the value tree every front end
//! produces, symbolic strings, the resource graph and diagnostics.
//!
//! Nothing here knows a file format or a rule.

pub mod diagnostic;
pub mod fix;
pub mod graph;
pub mod source;
pub mod symbolic;
pub mod value;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use fix::{Edit, Fix, Safety};
pub use graph::{Account, AppliedBy, Format, Graph, Origin, Parameter, Resource, Stack};
pub use source::{FileId, LineCol, SourceFile, SourceMap, Span};
pub use symbolic::{SymPart, SymStr, Symbol};
pub use value::{Attribute, Choice, Key, Map, Part, Pseudo, Reference, Unknown, Value, ValueKind};
