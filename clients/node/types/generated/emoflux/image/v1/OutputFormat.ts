// Original file: ../../protos/emoflux/image/v1/image.proto

/**
 * Encoding of returned images.
 */
export const OutputFormat = {
  /**
   * Default; same as OUTPUT_FORMAT_PNG.
   */
  OUTPUT_FORMAT_UNSPECIFIED: 'OUTPUT_FORMAT_UNSPECIFIED',
  /**
   * Lossless PNG, 8-bit RGB. `quality` is ignored.
   */
  OUTPUT_FORMAT_PNG: 'OUTPUT_FORMAT_PNG',
  /**
   * JPEG, 8-bit RGB, at `quality`.
   */
  OUTPUT_FORMAT_JPEG: 'OUTPUT_FORMAT_JPEG',
  /**
   * Lossy WebP, 8-bit RGB, at `quality`.
   */
  OUTPUT_FORMAT_WEBP: 'OUTPUT_FORMAT_WEBP',
} as const;

/**
 * Encoding of returned images.
 */
export type OutputFormat =
  /**
   * Default; same as OUTPUT_FORMAT_PNG.
   */
  | 'OUTPUT_FORMAT_UNSPECIFIED'
  | 0
  /**
   * Lossless PNG, 8-bit RGB. `quality` is ignored.
   */
  | 'OUTPUT_FORMAT_PNG'
  | 1
  /**
   * JPEG, 8-bit RGB, at `quality`.
   */
  | 'OUTPUT_FORMAT_JPEG'
  | 2
  /**
   * Lossy WebP, 8-bit RGB, at `quality`.
   */
  | 'OUTPUT_FORMAT_WEBP'
  | 3

/**
 * Encoding of returned images.
 */
export type OutputFormat__Output = typeof OutputFormat[keyof typeof OutputFormat]
