// Whether the project's requirement lines declare an import: by the project's name as pip compares
// names, or by a distribution known to provide it under another name (the missing-import Warning
// must not tell a user who declared `scikit-learn` that `sklearn` is undeclared).
import { describe, expect, it } from 'vitest';
import { declares } from '../../server/src/bundle/code-plan.js';

describe('requirement lines declaring an import', () => {
  it('match the project name as pip does: case and -, _ and . alike', () => {
    expect(declares(['Sentence.Transformers>=2'], 'sentence_transformers')).toBe(true);
    expect(declares(['IPython'], 'IPython')).toBe(true);
    expect(declares(['numpy'], 'pandas')).toBe(false);
  });

  it('count a distribution that provides the module under another name', () => {
    expect(declares(['scikit-learn==1.5.0'], 'sklearn')).toBe(true);
    expect(declares(['pillow>=10'], 'PIL')).toBe(true);
    expect(declares(['opencv-python-headless'], 'cv2')).toBe(true);
    expect(declares(['PyYAML; python_version >= "3.8"'], 'yaml')).toBe(true);
    expect(declares(['scikit-image'], 'sklearn')).toBe(false);
  });
});
