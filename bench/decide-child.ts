// decide() timings in a fresh process (bench/decide.bench.ts), so the figure does not carry the heap
// of the run that started it: in the same process as the NATS sections (hundreds of thousands of
// generated events held) the same code measured 33 µs at 50 promotions instead of 25, its garbage
// collections tracing that heap. Usage: node --import tsx bench/decide-child.ts [--quick]; one JSON line.
import { benchDecide } from "./decide.bench.ts";

const quick = process.argv.includes("--quick");
console.log(JSON.stringify({ category: benchDecide({ quick, scope: "category" }), hot: benchDecide({ quick, scope: "category", hotCustomers: 20_480 }), all: benchDecide({ quick, scope: "all" }) }));
