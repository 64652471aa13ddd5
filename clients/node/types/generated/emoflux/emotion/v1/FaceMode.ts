// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

/**
 * How faces are located in each image.
 */
export const FaceMode = {
  /**
   * Default; same as FACE_MODE_WHOLE.
   */
  FACE_MODE_UNSPECIFIED: 'FACE_MODE_UNSPECIFIED',
  /**
   * The whole image is one face: exactly one Face is returned per image, with a box
   * covering the whole image and `detection_confidence` 1. Use this for images that
   * are already face crops.
   */
  FACE_MODE_WHOLE: 'FACE_MODE_WHOLE',
  /**
   * Run the server's face detector and classify each detected face. Images with no
   * detected face get an empty `faces` list (not an error).
   */
  FACE_MODE_DETECT: 'FACE_MODE_DETECT',
} as const;

/**
 * How faces are located in each image.
 */
export type FaceMode =
  /**
   * Default; same as FACE_MODE_WHOLE.
   */
  | 'FACE_MODE_UNSPECIFIED'
  | 0
  /**
   * The whole image is one face: exactly one Face is returned per image, with a box
   * covering the whole image and `detection_confidence` 1. Use this for images that
   * are already face crops.
   */
  | 'FACE_MODE_WHOLE'
  | 1
  /**
   * Run the server's face detector and classify each detected face. Images with no
   * detected face get an empty `faces` list (not an error).
   */
  | 'FACE_MODE_DETECT'
  | 2

/**
 * How faces are located in each image.
 */
export type FaceMode__Output = typeof FaceMode[keyof typeof FaceMode]
