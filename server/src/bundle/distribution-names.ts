// The PyPI distributions behind import names that differ from them (`import sklearn` comes from
// `scikit-learn`), so a requirement line naming the distribution counts as declaring the import,
// and the missing-import quick fix writes a name pip can install (`sklearn` on PyPI is a stub
// that refuses to install; `yaml`, `cv2` or `bs4` are not the packages users mean). Namespaces
// shared by several distributions (`google`, `azure`, `databricks`) are left out: no one answer.

const DISTRIBUTIONS: Readonly<Record<string, readonly string[]>> = {
  sklearn: ['scikit-learn'],
  skimage: ['scikit-image'],
  cv2: ['opencv-python', 'opencv-python-headless', 'opencv-contrib-python', 'opencv-contrib-python-headless'],
  PIL: ['Pillow'],
  yaml: ['PyYAML'],
  ruamel: ['ruamel.yaml'],
  bs4: ['beautifulsoup4'],
  dateutil: ['python-dateutil'],
  dotenv: ['python-dotenv'],
  jwt: ['PyJWT'],
  jose: ['python-jose'],
  Crypto: ['pycryptodome', 'pycrypto'],
  OpenSSL: ['pyOpenSSL'],
  attr: ['attrs'],
  docx: ['python-docx'],
  pptx: ['python-pptx'],
  fitz: ['PyMuPDF'],
  git: ['GitPython'],
  github: ['PyGithub'],
  magic: ['python-magic'],
  serial: ['pyserial'],
  zmq: ['pyzmq'],
  MySQLdb: ['mysqlclient'],
  slugify: ['python-slugify'],
  Bio: ['biopython'],
  umap: ['umap-learn'],
  faiss: ['faiss-cpu', 'faiss-gpu'],
  kafka: ['kafka-python'],
  telegram: ['python-telegram-bot'],
  dns: ['dnspython'],
  socks: ['PySocks'],
  snappy: ['python-snappy'],
  osgeo: ['GDAL'],
  delta: ['delta-spark'],
  mpl_toolkits: ['matplotlib'],
  pkg_resources: ['setuptools'],
  gi: ['PyGObject'],
  ldap: ['python-ldap'],
};

/** The distributions that provide the top-level module `name`, the usual one first; `[name]` when they are the same. */
export function distributionsOf(name: string): readonly string[] {
  return Object.hasOwn(DISTRIBUTIONS, name) ? DISTRIBUTIONS[name]! : [name];
}

/** A project name as pip compares them (PEP 503): case and runs of `-`, `_`, `.` do not matter. */
export function normalizedProject(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
