//! AWS managed policies (generated data), looked up by ARN or name.
