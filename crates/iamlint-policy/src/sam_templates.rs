//! SAM policy templates (generated data from aws-sam-translator).
