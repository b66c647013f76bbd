/**
 * Thumbnails of uploaded images, made with sharp (libvips): turned upright by
 * their EXIF orientation, scaled to fit 800×800 (twice the size the web UI
 * shows them, for sharp screens), and written without metadata — no camera
 * details or GPS position leave in a thumbnail.
 */
import sharp, { type Metadata } from "sharp";

/** Formats shown inline: the raster images every browser draws. SVG never is (it can carry script). */
const INLINE_FORMATS: Record<string, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
};

/**
 * The MIME type of an image sharp read, when it is one shown inline. libvips
 * reads AVIF as HEIF: AVIF is HEIF compressed with AV1 (HEIC, with HEVC, is
 * not shown by most browsers).
 */
function inlineType(meta: Metadata): string | undefined {
  if (meta.format === "heif") return meta.compression === "av1" ? "image/avif" : undefined;
  return meta.format ? INLINE_FORMATS[meta.format] : undefined;
}

/** Larger images are not decoded (a small file can claim an enormous canvas): they stay plain files. */
const MAX_PIXELS = 50_000_000;
const THUMB_BOX = 800;

export interface Thumbnail {
  /** The image's MIME type, from its content. */
  type: string;
  /** Upright size of the original. */
  width: number;
  height: number;
  /** A JPEG, or a PNG where the original has transparency (no metadata either way). */
  data: Buffer;
}

/** Whether an upload of this (declared) type may be an image worth a thumbnail. */
export function mayBeImage(type: string): boolean {
  return Object.values(INLINE_FORMATS).includes(type);
}

/**
 * Decodes images — thumbnails, profile pictures — at most two at once per
 * instance (decoding an image can take tens of MB while it runs; the rest
 * wait their turn).
 */
export class Images {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxAtOnce = 2) {}

  /**
   * Reads `source` as an image: its thumbnail and upright size, or null when
   * it is not an image of a format shown inline (or cannot be decoded).
   */
  thumbnail(source: AsyncIterable<Buffer>): Promise<Thumbnail | null> {
    return this.inTurn(() => thumbnail(source));
  }

  /** A profile picture: see {@link makeAvatar}. */
  avatar(input: Buffer, crop: Crop | null): Promise<{ data: Buffer; type: string } | null> {
    return this.inTurn(() => makeAvatar(input, crop));
  }

  private async inTurn<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxAtOnce) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

async function thumbnail(source: AsyncIterable<Buffer>): Promise<Thumbnail | null> {
  // libvips reads from memory: the image is held once, while its thumbnail is made.
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  try {
    const image = sharp(Buffer.concat(chunks), { limitInputPixels: MAX_PIXELS, failOn: "error" });
    const meta = await image.metadata();
    const type = inlineType(meta);
    if (!type || !meta.width || !meta.height) return null;
    // Orientations 5–8 are a quarter turn: width and height swap.
    const turned = (meta.orientation ?? 1) >= 5;
    const scaled = image.rotate().resize(THUMB_BOX, THUMB_BOX, { fit: "inside", withoutEnlargement: true });
    const data = meta.hasAlpha ? await scaled.png({ compressionLevel: 9, palette: true }).toBuffer() : await scaled.jpeg({ quality: 80, mozjpeg: true }).toBuffer();
    return { type, width: turned ? meta.height : meta.width, height: turned ? meta.width : meta.height, data };
  } catch {
    return null;
  }
}

/** Side of a profile picture, in pixels (the web UI shows it at up to 128 CSS pixels, on sharp screens twice that). */
export const AVATAR_SIZE = 256;

/** A square of the upright picture, in its pixels. */
export interface Crop {
  x: number;
  y: number;
  size: number;
}

/**
 * A profile picture from an uploaded image: turned upright, the square
 * `crop` (or the middle square) cut out and scaled to 256×256, written
 * without metadata — a JPEG, or a PNG where the square has transparency.
 * Null when it is not an image of a format shown inline (or is over 50
 * megapixels, or cannot be decoded); `RangeError` when the square does not
 * fit in the picture.
 *
 * One pipeline, from the header's upright size: libvips cuts the square as
 * it decodes, never holding the whole picture as raw pixels (a 50-megapixel
 * one would be 200 MB and seconds of work).
 */
async function makeAvatar(input: Buffer, crop: Crop | null): Promise<{ data: Buffer; type: string } | null> {
  const options = { limitInputPixels: MAX_PIXELS, failOn: "error" } as const;
  let meta: Metadata;
  try {
    meta = await sharp(input, options).metadata();
  } catch {
    return null;
  }
  const { width, height } = meta.autoOrient ?? { width: meta.width, height: meta.height };
  if (!inlineType(meta) || !width || !height || width * height > MAX_PIXELS) return null;
  const side = Math.min(width, height);
  const square = crop ?? { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), size: side };
  if (square.x + square.size > width || square.y + square.size > height) {
    throw new RangeError(`the square (${square.x}, ${square.y}, ${square.size}) does not fit in the ${width}×${height} picture`);
  }
  let cut: Buffer;
  try {
    // Lossless, and quick to write: only read back below.
    cut = await sharp(input, { ...options, autoOrient: true })
      .extract({ left: square.x, top: square.y, width: square.size, height: square.size })
      .resize(AVATAR_SIZE, AVATAR_SIZE)
      .ensureAlpha()
      .png({ compressionLevel: 0 })
      .toBuffer();
  } catch {
    return null;
  }
  const { isOpaque } = await sharp(cut).stats();
  return isOpaque
    ? { data: await sharp(cut).flatten().jpeg({ quality: 85, mozjpeg: true }).toBuffer(), type: "image/jpeg" }
    : { data: await sharp(cut).png({ compressionLevel: 9 }).toBuffer(), type: "image/png" };
}
