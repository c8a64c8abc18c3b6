/** Placeholder entry so `npm run simulator -- replay` fails clearly until replay lands (issue #5). */
export async function replayCli(_args: string[]): Promise<number> {
  console.error("replay is not implemented yet (issue #5)");
  return 2;
}
