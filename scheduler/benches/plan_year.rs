//! How long planning one year of regular meetings takes (the budget is 5 ms per year).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scheduler::bodies::all_bodies;
use scheduler::planning::plan_year;

fn plan_one_year(c: &mut Criterion) {
    c.bench_function("plan_year 2027", |b| b.iter(|| plan_year(black_box(2027), all_bodies())));
}

fn plan_forty_years(c: &mut Criterion) {
    c.bench_function("plan_year 2000..=2040", |b| {
        b.iter(|| {
            (2000..=2040)
                .map(|year| plan_year(black_box(year), all_bodies()).map(|plan| plan.meetings.len()))
                .sum::<Result<usize, _>>()
        })
    });
}

criterion_group!(benches, plan_one_year, plan_forty_years);
criterion_main!(benches);
