import { Faker, base, en } from "@faker-js/faker";

export interface Product {
  id: string;
  name: string;
  category: string;
  priceCents: number;
  costCents: number;
  stock: number;
}

/** A catalog from faker under a fixed seed: sku-001…, categories round-robin, margins 20–55%. */
export function buildCatalog(seed: number, count: number, categories: readonly string[], initialStock: number): Product[] {
  const f = new Faker({ locale: [en, base] });
  f.seed(seed);
  const out: Product[] = [];
  for (let i = 0; i < count; i++) {
    const priceCents = Math.round(Number(f.commerce.price({ min: 8, max: 250, dec: 2 })) * 100);
    const marginShare = f.number.float({ min: 0.2, max: 0.55 });
    out.push({
      id: `sku-${String(i + 1).padStart(3, "0")}`,
      name: f.commerce.productName(),
      category: categories[i % categories.length]!,
      priceCents,
      costCents: Math.round(priceCents * (1 - marginShare)),
      stock: initialStock,
    });
  }
  return out;
}
