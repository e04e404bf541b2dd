//! The IAM catalog's lazy loading: decoding one service's data the first time it is asked
//! about (target: under 1 ms), and a lookup once decoded.

use criterion::{Criterion, criterion_group, criterion_main};
use iamlint_policy::{catalog, managed};
use std::hint::black_box;

fn decode(c: &mut Criterion) {
    for prefix in ["s3", "sqs", "ec2"] {
        c.bench_function(&format!("decode service {prefix}"), |b| {
            b.iter(|| catalog::decode_service_uncached(black_box(prefix)))
        });
    }
    c.bench_function("lookup s3:GetObject (decoded)", |b| {
        let _ = catalog::action("s3:GetObject");
        b.iter(|| catalog::action(black_box("s3:getobject")))
    });
    c.bench_function(
        "managed policy document AWSLambdaVPCAccessExecutionRole",
        |b| {
            b.iter(|| {
                managed::by_name(black_box("AWSLambdaVPCAccessExecutionRole")).map(|p| p.document())
            })
        },
    );
}

criterion_group!(benches, decode);
criterion_main!(benches);
