// Where the Mario AI framework's A* agent goes on one level, tick by tick: a diagnostic for
// bench_oracle.py's verdicts (docs/levels-agent.md, "Why the jar loses"). It drives the classes of
// PlayAstar.jar (the mario-gpt wheel, see generators/levels/oracle.py) as PlayAstar does, with the
// same 200 s game clock, and prints the jar's result line, then one line per tick:
//     T tick marioX marioY onGround actions(left right down speed jump as 0/1) marioMode
// x and y are pixels (16 a tile; y grows downwards; feet at y). Java 8 or later:
//     javac -cp DIR/PlayAstar.jar -d /tmp/trace bench/OracleTrace.java
//     java -cp DIR/PlayAstar.jar:/tmp/trace OracleTrace LEVEL.txt DIR/img/
// Like the jar, its search is budgeted by wall-clock time per tick: run it on a quiet machine.
import engine.core.MarioAgentEvent;
import engine.core.MarioGame;
import engine.core.MarioResult;
import java.nio.file.Files;
import java.nio.file.Paths;

public class OracleTrace {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OracleTrace LEVEL.txt IMG_FOLDER/");
            System.exit(2);
        }
        String level = new String(Files.readAllBytes(Paths.get(args[0])));
        MarioResult result = new MarioGame().playAstar(new agents.robinBaumgarten.Agent(), level, 200, false, args[1]);
        System.out.println("Game Status: " + result.getGameStatus() + " Percentage Completion: " + result.getCompletionPercentage());
        int tick = 0;
        for (MarioAgentEvent event : result.getAgentEvents()) {
            StringBuilder pressed = new StringBuilder();
            for (boolean on : event.getActions()) {
                pressed.append(on ? '1' : '0');
            }
            System.out.println("T " + tick++ + " " + event.getMarioX() + " " + event.getMarioY() + " "
                    + (event.getMarioOnGround() ? 1 : 0) + " " + pressed + " " + event.getMarioState());
        }
    }
}
