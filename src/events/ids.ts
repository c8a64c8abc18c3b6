// Ids promo-stream derives from other ids: the copies of one change or event, one per partition
// (`<id>.p<k>`, `<id>.s<k>`), and the ids of its own events. A derived id must itself be a valid event
// id (ID_MAX_LENGTH, ID_PATTERN), or every copy is refused as invalid: a shop's event id may already
// be 128 characters long.
import { createHash } from "node:crypto";
import { ID_MAX_LENGTH } from "./schema.ts";

/** The longest partition number's digits (partitions ≤ 1024) and its dot. */
const COPY_ROOM = 5;
/** Hex digits of the digest a shortened id ends with (128 bits). */
const DIGEST_HEX = 32;

/**
 * `id` as it is when `reserve` more characters still fit an event id; else its first characters and
 * a digest of the whole (`<start>-<sha256 hex>`). Deterministic: a replay derives the same id, so the
 * stream's duplicate window still drops a second copy; two ids differing anywhere get different digests.
 */
export function fitId(id: string, reserve = 0): string {
  const room = ID_MAX_LENGTH - reserve;
  if (id.length <= room) return id;
  const digest = createHash("sha256").update(id).digest("hex").slice(0, DIGEST_HEX);
  return `${id.slice(0, room - DIGEST_HEX - 1)}-${digest}`;
}

/** Copy k of an event or change for one partition, `<id>.<tag><k>`, within an event id's length. */
export function copyId(id: string, tag: string, k: number): string {
  return `${fitId(id, tag.length + COPY_ROOM)}.${tag}${k}`;
}
