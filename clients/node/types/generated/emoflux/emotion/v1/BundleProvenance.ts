// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp';

/**
 * Where the model bundle came from and how it was checked.
 */
export interface BundleProvenance {
  /**
   * The checkpoint the bundle was built from: a hub id (e.g.
   * "org/facial-emotions-image-detection"), a local directory, or a builtin name
   * such as "builtin:tiny-vit-synthetic".
   */
  'source'?: (string);
  /**
   * Hex SHA-256 of the served model file (e.g. the ONNX file).
   */
  'sha256'?: (string);
  /**
   * Tool that produced the served file, e.g. "torch.onnx.export(dynamo) 2.13.0".
   */
  'exporter'?: (string);
  /**
   * ONNX opset of the served file; 0 when the backend does not use ONNX.
   */
  'opset'?: (number);
  /**
   * When the bundle was built.
   */
  'created_at'?: (_google_protobuf_Timestamp | null);
  /**
   * Largest absolute difference between the exported model's logits and the source
   * framework's logits on the parity check inputs; negative when not measured.
   */
  'parity_max_abs_diff'?: (number | string);
  /**
   * Versions of the libraries used to build the bundle, e.g.
   * {"torch": "2.13.0", "transformers": "5.24.0", "onnx": "1.23.0"}.
   */
  'library_versions'?: ({[key: string]: string});
}

/**
 * Where the model bundle came from and how it was checked.
 */
export interface BundleProvenance__Output {
  /**
   * The checkpoint the bundle was built from: a hub id (e.g.
   * "org/facial-emotions-image-detection"), a local directory, or a builtin name
   * such as "builtin:tiny-vit-synthetic".
   */
  'source': (string);
  /**
   * Hex SHA-256 of the served model file (e.g. the ONNX file).
   */
  'sha256': (string);
  /**
   * Tool that produced the served file, e.g. "torch.onnx.export(dynamo) 2.13.0".
   */
  'exporter': (string);
  /**
   * ONNX opset of the served file; 0 when the backend does not use ONNX.
   */
  'opset': (number);
  /**
   * When the bundle was built.
   */
  'created_at': (_google_protobuf_Timestamp__Output | null);
  /**
   * Largest absolute difference between the exported model's logits and the source
   * framework's logits on the parity check inputs; negative when not measured.
   */
  'parity_max_abs_diff': (number);
  /**
   * Versions of the libraries used to build the bundle, e.g.
   * {"torch": "2.13.0", "transformers": "5.24.0", "onnx": "1.23.0"}.
   */
  'library_versions': ({[key: string]: string});
}
