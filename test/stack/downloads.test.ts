import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DownloadCount } from '../../src/stack/kafka.ts'

// Lines of a real `mvn -B dependency:copy-dependencies` run (Maven 3.8.7) on an empty repository.
const mavenOutput = `[INFO] Scanning for projects...
[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/apache/maven/plugins/maven-clean-plugin/2.5/maven-clean-plugin-2.5.pom
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/maven/plugins/maven-clean-plugin/2.5/maven-clean-plugin-2.5.pom (3.9 kB at 17 kB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/maven/maven-parent/21/maven-parent-21.pom (26 kB at 1.6 MB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/4.1.1/kafka_2.13-4.1.1.jar (2.1 MB at 11 MB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/codehaus/plexus/plexus-component-annotations/2.1.0/plexus-component-annotations-2.1.0.pom (750 B at 125 kB/s)
[INFO] Building vitals-stack 0.1.0
[INFO] BUILD SUCCESS`

test('DownloadCount should count each finished download of Maven\'s batch output with its size', () => {
  const count = new DownloadCount()
  const counted = mavenOutput.split('\n').map((line) => count.add(line))
  assert.deepEqual(counted, [false, false, true, true, true, true, false, false])
  assert.equal(count.files, 4)
  assert.equal(count.bytes, 3900 + 26_000 + 2_100_000 + 750)
  assert.equal(count.describe(), '4 files, 2.1 MB')
})
