// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * The score of one label.
 */
export interface LabelScore {
  /**
   * Label name from the model's id2label, e.g. "happy".
   */
  'label'?: (string);
  /**
   * Softmax probability in [0, 1].
   */
  'score'?: (number | string);
  /**
   * Index of the label in the model's id2label (and in
   * `GetModelInfoResponse.labels`).
   */
  'label_id'?: (number);
}

/**
 * The score of one label.
 */
export interface LabelScore__Output {
  /**
   * Label name from the model's id2label, e.g. "happy".
   */
  'label': (string);
  /**
   * Softmax probability in [0, 1].
   */
  'score': (number);
  /**
   * Index of the label in the model's id2label (and in
   * `GetModelInfoResponse.labels`).
   */
  'label_id': (number);
}
