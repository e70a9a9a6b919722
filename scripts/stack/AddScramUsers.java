// Creates the stack's SCRAM-SHA-256/512 user on a running broker, for a data dir that was
// formatted before the secured listeners existed (new ones get it from `format --add-scram`).
// Run from source by kafka.sh: java -cp '<kafka libs>/*' AddScramUsers.java HOST:PORT USER
// with the password in $SCRAM_PASSWORD (not an argument, so it stays out of `ps`).
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class AddScramUsers {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    String password = System.getenv("SCRAM_PASSWORD");
    try (Admin admin = Admin.create(props)) {
      // One request per mechanism: a request may alter a user only once.
      for (ScramMechanism m : List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
        admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(args[1], new ScramCredentialInfo(m, 8192), password)))
            .all().get();
      }
    }
  }
}
